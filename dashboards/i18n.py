"""French and English interface strings of the dashboard (French is the default)."""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("fr", "en")

# key: (français, English)
STRINGS: dict[str, tuple[str, str]] = {
    # navigation / common
    "app.title": ("Écoute client", "Customer listening"),
    "page.overview": ("Vue d'ensemble", "Overview"),
    "page.inbox": ("Boîte de réception", "Inbox"),
    "page.competitors": ("Concurrents", "Competitors"),
    "page.explorer": ("Explorateur", "Explorer"),
    "page.sources": ("Sources", "Sources"),
    "language": ("Langue", "Language"),
    "filters": ("Filtres", "Filters"),
    "dates": ("Période", "Dates"),
    "all_time": ("Toute la période", "All time"),
    "all_time_help": ("Tous les verbatims, y compris ceux sans date de publication.",
                      "Every verbatim, including those without a publication date."),
    "all_time_range": ("Du {start} au {end}, plus les verbatims sans date.",
                       "From {start} to {end}, plus undated verbatims."),
    "hidden": ("{shown} verbatims sur {total} correspondent aux filtres : {hidden} masqués.",
               "{shown} of {total} verbatims match the filters: {hidden} hidden."),
    "hidden_undated": ("Dont {n} sans date de publication : cochez « Toute la période ».",
                       "{n} of them have no publication date: tick \"All time\"."),
    "brand": ("Marque", "Brand"),
    "brands": ("Marques", "Brands"),
    "source": ("Source", "Source"),
    "kind": ("Type de source", "Source kind"),
    "lang_filter": ("Langue des verbatims", "Verbatim language"),
    "topic": ("Thème", "Topic"),
    "sentiment": ("Sentiment", "Sentiment"),
    "all": ("Tous", "All"),
    "day": ("Jour", "Day"),
    "week": ("Semaine", "Week"),
    "count": ("Nombre", "Count"),
    "verbatims": ("Verbatims", "Verbatims"),
    "export_csv": ("Exporter en CSV", "Export CSV"),
    "export_png": ("Exporter en PNG", "Export PNG"),
    "open_source": ("Ouvrir la source", "Open the source"),
    "no_data": ("Aucune donnée pour ces filtres.", "No data for these filters."),
    "times_in": ("Heures affichées en {tz}.", "Times shown in {tz}."),
    "store_problem": ("Le stockage n'est pas prêt : {problem}", "The store is not ready: {problem}"),
    "store_hint": (
        "Lancez `listening init`, puis `listening demo` pour des données d'exemple.",
        "Run `listening init`, then `listening demo` for sample data.",
    ),
    "empty_store": (
        "Aucun verbatim pour l'instant. Ajoutez une source (page Sources) puis lancez "
        "`listening collect --all`, ou essayez `listening demo`.",
        "No verbatims yet. Add a source (Sources page) then run `listening collect --all`, "
        "or try `listening demo`.",
    ),
    "positive": ("positif", "positive"),
    "neutral": ("neutre", "neutral"),
    "negative": ("négatif", "negative"),
    # overview
    "kpi.documents": ("Verbatims", "Verbatims"),
    "kpi.analysed": ("Analysés", "Analysed"),
    "kpi.net": ("Sentiment net", "Net sentiment"),
    "kpi.negative": ("Part négative", "Negative share"),
    "ov.volume": ("Volume par jour", "Volume per day"),
    "ov.by": ("Découper par", "Split by"),
    "ov.net_trend": ("Sentiment net (positifs − négatifs) / total", "Net sentiment (positive − negative) / all"),
    "ov.heatmap": ("Thèmes × sentiment — {brand}", "Topics × sentiment — {brand}"),
    "ov.no_own": (
        "Aucune marque n'est marquée comme la vôtre (own) : toutes les marques sont comptées.",
        "No brand is marked as your own: all brands are counted.",
    ),
    "ov.spikes": ("Pics et thèmes émergents", "Spikes and emerging topics"),
    "ov.alerts": ("Alertes ouvertes (routage)", "Open alerts (routing)"),
    "ov.spikes_help": (
        "{days} derniers jours de la période comparés aux {base} jours précédents "
        "(score z de Poisson ≥ 2 et au moins 5 mentions).",
        "Last {days} days of the range against the {base} days before "
        "(Poisson z-score ≥ 2 and at least 5 mentions).",
    ),
    "ov.no_spike": ("Aucun pic détecté.", "No spike detected."),
    "ov.latest": ("Derniers verbatims", "Latest verbatims"),
    "ov.evidence": ("Passages surlignés : preuves des thèmes détectés.", "Highlighted: evidence of detected topics."),
    "recent": ("récent", "recent"),
    "expected": ("attendu", "expected"),
    "recent_negative": ("dont négatifs", "of which negative"),
    # inbox
    "in.team": ("Équipe", "Team"),
    "in.priority": ("Priorité", "Priority"),
    "in.status": ("Statut", "Status"),
    "in.sla": ("SLA", "SLA"),
    "sla.breached": ("dépassé", "breached"),
    "sla.at_risk": ("à risque", "at risk"),
    "sla.on_time": ("dans les temps", "on time"),
    "sla.none": ("sans SLA", "no SLA"),
    "sla.done": ("traité", "done"),
    "in.tickets": ("Tickets", "Tickets"),
    "in.no_tickets": (
        "Aucun ticket. Les tickets sont créés par `listening route` à partir des verbatims analysés.",
        "No tickets. Tickets are created by `listening route` from analysed verbatims.",
    ),
    "in.detail": ("Détail du ticket", "Ticket detail"),
    "in.pick": ("Ticket", "Ticket"),
    "in.thread": ("Fil de discussion", "Thread context"),
    "in.history": ("Historique", "History"),
    "in.analysis": ("Analyse", "Analysis"),
    "in.actor": ("Votre nom (journal)", "Your name (audit trail)"),
    "in.assignee": ("Assigner à", "Assign to"),
    "in.note": ("Réponse / note", "Answer / note"),
    "in.assign": ("Assigner", "Assign"),
    "in.answer": ("Répondre", "Answer"),
    "in.close": ("Clore", "Close"),
    "in.ignore": ("Ignorer", "Ignore"),
    "in.bulk": ("Action groupée sur les tickets cochés", "Bulk action on the ticked tickets"),
    "in.select": ("Cocher", "Select"),
    "in.apply": ("Appliquer", "Apply"),
    "in.action": ("Action", "Action"),
    "in.done": ("{action} : {n} ticket(s) mis à jour.", "{action}: {n} ticket(s) updated."),
    "in.failed": ("Ticket #{id} : {error}", "Ticket #{id}: {error}"),
    "in.unavailable": (
        "Les actions ne sont pas disponibles : le service de routage (listening.routing.inbox) "
        "n'est pas installé.",
        "Actions are unavailable: the routing service (listening.routing.inbox) is not installed.",
    ),
    "in.need_actor": ("Indiquez votre nom.", "Give your name."),
    "in.need_text": ("Ce champ est requis pour cette action.", "This field is required for this action."),
    "in.due": ("Échéance", "Due"),
    "in.assigned_to": ("Assigné à", "Assignee"),
    "in.intent": ("Intention", "Intent"),
    "in.urgency": ("Urgence", "Urgency"),
    "in.at": ("Quand", "When"),
    "in.who": ("Qui", "Who"),
    "in.what": ("Quoi", "What"),
    "in.details": ("Détails", "Details"),
    # competitors
    "co.matrix": ("Marques × critères du parcours client", "Brands × customer-journey criteria"),
    "co.metric": ("Mesure", "Metric"),
    "co.net": ("Sentiment net", "Net sentiment"),
    "co.sov": ("Part de voix", "Share of voice"),
    "co.volume": ("Volume", "Volume"),
    "co.sig_help": (
        "▲/▼ : écart significatif avec {own} (test z bilatéral sur la différence de sentiment net, "
        "α = 5 %, au moins {min_n} mentions de chaque côté). IC à 95 % entre crochets.",
        "▲/▼: significant difference from {own} (two-sided z-test on the difference in net "
        "sentiment, α = 5%, at least {min_n} mentions each). 95% CI in brackets.",
    ),
    "co.trend": ("Tendance par critère", "Trend per criterion"),
    "co.drill": ("Verbatims de la cellule", "Verbatims behind a cell"),
    "co.no_brands": (
        "Aucune mention de marque analysée sur la période.",
        "No analysed brand mentions in this range.",
    ),
    # explorer
    "ex.query": ("Recherche plein texte", "Full-text search"),
    "ex.help": (
        "Tous les mots doivent apparaître ; terminez un mot par * pour chercher un préfixe.",
        "Every word must appear; end a word with * for a prefix search.",
    ),
    "ex.results": ("{n} résultat(s) affiché(s)", "{n} result(s) shown"),
    # why a verbatim opened no ticket (routing_decisions.outcome)
    "routing.no_ticket": ("Pas de ticket", "No ticket"),
    "routing.off_topic": ("ne concerne pas la marque", "does not concern the brand"),
    "routing.other_language": ("autre langue", "other language"),
    "routing.too_old": ("trop ancien", "too old"),
    "routing.skipped": ("écarté par une règle", "skipped by a rule"),
    "routing.no_match": ("aucune règle ne s'applique", "no rule matches"),
    # public replies (channels)
    "in.reply": ("Réponse publique", "Public reply"),
    "in.reply_text": ("Texte publié sous le message du client", "Text posted under the customer's message"),
    "in.reply_send": ("Publier la réponse", "Post the reply"),
    "in.reply_state": ("Réponse publique : {state}", "Public reply: {state}"),
    "in.reply_posted": ("publiée", "posted"),
    "in.reply_queued": ("en file (nouvel essai automatique)", "queued (retried automatically)"),
    "in.reply_link": ("à faire sur la plateforme", "to write on the platform"),
    "in.reply_none": ("aucune", "none"),
    "in.reply_done": ("Réponse au ticket #{id} : {status}.", "Reply to ticket #{id}: {status}."),
    "in.reply_dup": ("Cette réponse est déjà partie ou en file : elle n'est pas envoyée deux fois.",
                     "This reply was already sent or queued: it is not sent twice."),
    "in.reply_where": ("Pas d'API de réponse : répondez ici : {url}", "No reply API: answer here: {url}"),
    # sources
    "so.health": ("Santé des sources", "Source health"),
    "so.none": (
        "Aucune source. Ajoutez-en une ci-dessous ou `listening sources import FICHIER.yaml`.",
        "No sources yet. Add one below or `listening sources import FILE.yaml`.",
    ),
    "so.work": ("Files de travail", "Work queues"),
    "so.queue": ("File", "Queue"),
    "so.pending": ("En attente", "Pending"),
    "so.oldest": ("Plus ancien en attente (s)", "Oldest pending (s)"),
    "so.per_min": ("Traités / min (5 min)", "Done / min (5 min)"),
    "so.dead": ("Tâches en échec définitif", "Dead-lettered tasks"),
    "so.dead_help": (
        "{n} tâche(s) ont échoué après leurs tentatives : `listening workers status` les détaille.",
        "{n} task(s) failed after their retries: `listening workers status` lists them.",
    ),
    "so.add": ("Ajouter ou modifier une source", "Add or edit a source"),
    "so.edit": ("Source à modifier", "Source to edit"),
    "so.new": ("(nouvelle source)", "(new source)"),
    "so.name": ("Nom", "Name"),
    "so.url": ("URL", "URL"),
    "so.brand": ("Marque (optionnelle)", "Brand (optional)"),
    "so.schedule": ("Minutes entre deux collectes", "Minutes between collections"),
    "so.enabled": ("Active", "Enabled"),
    "so.save": ("Enregistrer", "Save"),
    "so.saved": ("Source « {name} » enregistrée.", "Source '{name}' saved."),
    "so.enqueue": ("Planifier une collecte maintenant", "Enqueue a crawl now"),
    "so.enqueued": (
        "Collecte planifiée pour « {name} » : `listening collect --all` ou `listening serve` la lancera.",
        "Crawl enqueued for '{name}': `listening collect --all` or `listening serve` will run it.",
    ),
    "so.blocked": ("bloquée", "blocked"),
    "so.items": ("Verbatims", "Items"),
    "so.last_run": ("Dernière collecte", "Last run"),
    "so.last_status": ("Statut", "Status"),
    "so.new_items": ("Nouveaux", "New"),
    "so.errors": ("Erreurs", "Errors"),
    "so.next_run": ("Prochaine collecte", "Next run"),
    "so.state": ("Santé", "Health"),
    "so.never": ("jamais", "never"),
    # auth
    "auth.title": ("Connexion", "Sign in"),
    "auth.password": ("Mot de passe", "Password"),
    "auth.submit": ("Se connecter", "Sign in"),
    "auth.wrong": ("Mot de passe incorrect.", "Wrong password."),
    "auth.role": ("Rôle : {role}", "Role: {role}"),
    "auth.logout": ("Se déconnecter", "Sign out"),
    "auth.denied": ("Votre rôle ne permet pas cette action.", "Your role does not allow this action."),
    # corrections (dashboards/corrections.py)
    "page.review": ("À revoir", "To review"),
    # emerging themes
    "page.themes": ("Thèmes émergents", "Emerging themes"),
    "th.help": ("Regroupements de verbatims récents hors taxonomie (commande `listening themes`), "
                "comparés à la période précédente.",
                "Clusters of recent verbatims outside the taxonomy (`listening themes` command), "
                "compared with the previous period."),
    "th.none": ("Aucun thème émergent calculé : lancez `listening themes`.",
                "No emerging themes computed yet: run `listening themes`."),
    "th.all_brands": ("Toutes les marques", "All brands"),
    "th.period": ("Période du {start} au {end}.", "Period from {start} to {end}."),
    "th.theme": ("Thème émergent", "Emerging theme"),
    "th.volume": ("Volume", "Volume"),
    "th.previous": ("Période précédente", "Previous period"),
    "th.growth": ("Croissance", "Growth"),
    "th.net": ("Sentiment net", "Net sentiment"),
    "th.promoted": ("Devenu le thème", "Promoted to topic"),
    "th.words": ("Mots distinctifs", "Distinctive words"),
    "th.examples": ("Verbatims représentatifs", "Representative verbatims"),
    "th.sources": ("Sources", "Sources"),
    "th.already": ("Déjà promu en thème « {topic} ».", "Already promoted to topic \"{topic}\"."),
    "th.topic_id": ("Identifiant du nouveau thème (ex. transporteur_xyz)", "New topic id (e.g. carrier_xyz)"),
    "th.topic_label": ("Libellé", "Label"),
    "th.promote": ("Promouvoir en thème de la taxonomie", "Promote to a taxonomy topic"),
    "th.promoted_ok": ("Thème « {topic} » ajouté à {path} avec {n} exemples. Ensuite : {next}.",
                       "Topic \"{topic}\" added to {path} with {n} examples. Next: {next}."),
    "co.title": ("Corriger l'analyse", "Correct the analysis"),
    "co.pick": ("Verbatim à corriger", "Verbatim to correct"),
    "co.not_actionable": ("Pas de ticket nécessaire", "No ticket needed"),
    "co.save": ("Enregistrer la correction", "Save the correction"),
    "co.nothing": ("Rien n'a été changé.", "Nothing was changed."),
    "co.saved": ("Correction #{id} du verbatim #{doc} enregistrée ; le prochain `listening train` en tiendra compte.",
                 "Correction #{id} of verbatim #{doc} saved; the next `listening train` learns from it."),
    "co.priority": ("incertitude", "uncertainty"),
    "co.review_help": (
        "Verbatims récents dont l'analyse est la moins sûre (thème juste au-dessus de son seuil, "
        "sentiment à pile ou face), non encore corrigés : les corriger apprend le plus aux modèles.",
        "Recent verbatims whose analysis is least sure (a topic just above its threshold, a coin-toss "
        "sentiment), not yet corrected: correcting them teaches the models the most."),
    "co.review_empty": ("Aucun verbatim analysé à revoir.", "No analysed verbatim to review."),
    # calibration from star ratings (dashboards/calibration.py)
    "ca.title": ("Adapter le sentiment à vos notes", "Adapt sentiment to your ratings"),
    "ca.notice": ("{n} avis notés : adapter le modèle de sentiment à ces notes peut l'améliorer. "
                  "Mesurez d'abord l'effet sur une partie des avis mise de côté ; rien n'est appliqué sans vous.",
                  "{n} rated reviews: adapting the sentiment model to these ratings may improve it. Measure "
                  "the effect on held-out reviews first; nothing is applied without you."),
    "ca.measure": ("Mesurer", "Measure"),
    "ca.measuring": ("Calcul en cours…", "Working…"),
    "ca.result": ("{n} avis notés : adapter le sentiment changerait la précision sur {held} avis mis de côté "
                  "de {before} à {after} (macro-F1 {f1_before} → {f1_after}).",
                  "{n} rated reviews: adapting sentiment would change held-out accuracy {before} -> {after} "
                  "(macro-F1 {f1_before} -> {f1_after}, {held} held-out reviews)."),
    "ca.worse": ("Non proposé : le modèle adapté serait moins bon.", "Not proposed: the adapted model would be worse."),
    "ca.apply": ("Appliquer", "Apply"),
    "ca.applied": ("Modèle de sentiment adapté enregistré ({path}) ; relancez `listening analyze`.",
                   "Adapted sentiment model saved ({path}); run `listening analyze` again."),
}


def translate(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (English when unknown), formatted with ``values``."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "fr" else pair[1]
    return text.format(**values) if values else text
