"""French verbatims for the emerging-themes tests: a new carrier ("Rapidexo") that loses
parcels, a theme the journey taxonomy has no topic for by name, among varied verbatims."""

from __future__ import annotations

CARRIER = [
    "Depuis que vous passez par Rapidexo mes colis se perdent, deuxième commande jamais arrivée.",
    "Rapidexo a encore perdu mon colis, le suivi est bloqué depuis dix jours.",
    "Le nouveau transporteur Rapidexo est une catastrophe, colis égaré et personne ne répond.",
    "Colis perdu par Rapidexo, c'est la troisième fois ce mois-ci.",
    "Pourquoi avoir changé pour Rapidexo ? Mon paquet a disparu entre deux dépôts.",
    "Rapidexo indique livré mais je n'ai jamais rien reçu, colis introuvable.",
    "Avec Rapidexo le colis est resté bloqué au dépôt puis a été perdu.",
    "Encore un colis perdu chez Rapidexo, revenez à l'ancien transporteur svp.",
    "Rapidexo m'a perdu deux colis en une semaine, inadmissible.",
    "Mon colis confié à Rapidexo n'est jamais arrivé, le transporteur dit l'avoir perdu.",
    "Rapidexo perd les colis, j'attends toujours ma commande expédiée il y a trois semaines.",
    "Le transporteur Rapidexo a égaré mon paquet, aucune nouvelle depuis.",
    "Rapidexo : colis perdu, suivi inexistant, service injoignable.",
    "Deuxième colis perdu avec Rapidexo, je ne commanderai plus tant que vous l'utilisez.",
]

OTHER = [
    "La bougie parfumée sent très bon, elle tient plus de quarante heures.",
    "Le pull taille grand, prenez une taille en dessous.",
    "J'adore la nouvelle collection de printemps, les couleurs sont superbes.",
    "Le programme de fidélité ne m'a jamais crédité mes points.",
    "L'emballage cadeau était magnifique, ma mère était ravie.",
    "Les chaussures font mal aux pieds après une heure de marche.",
    "La notice de montage de l'étagère est incompréhensible.",
    "Très belle qualité de coton, le linge de lit est doux.",
    "Le code promo de bienvenue ne fonctionne pas.",
    "Je cherche un cadeau pour un anniversaire, vous avez des idées ?",
    "La lampe de chevet clignote depuis le premier jour.",
    "Les recettes de la newsletter sont vraiment sympas.",
    "Le vase est plus petit que sur la photo.",
    "Magasin de Lyon très bien agencé, vendeuse souriante.",
    "La crème hydratante m'a donné des boutons.",
    "Les jouets en bois sont solides, mes enfants les adorent.",
    "Le parfum de la gamme été est trop sucré à mon goût.",
    "Je ne trouve plus le thé vert au jasmin, il revient quand ?",
    "La carte cadeau a expiré sans prévenir.",
    "Le café en grains est bien torréfié, arôme puissant.",
    "La poêle accroche déjà après deux utilisations.",
    "Le coussin a perdu sa forme au lavage.",
    "Votre page Instagram est très inspirante.",
    "La montre s'est arrêtée au bout d'un mois.",
    "Le rouge à lèvres tient toute la journée, bravo.",
    "Le sac à dos a une couture qui lâche.",
    "Les graines de tomates ont très bien germé.",
    "Le tapis de yoga glisse beaucoup trop.",
    "Super atelier DIY en boutique samedi dernier.",
    "Le miel artisanal a un goût incroyable.",
]
