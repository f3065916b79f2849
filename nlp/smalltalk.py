"""Small talk: chat turns that carry no request and no topic ("ok merci", "non pour le moment").

A support chat is half made of such turns. They are analysed (language, sentiment) but never
get a topic, an urgency or an actionable intent, so routing never opens a ticket for them,
whatever their sentiment. A message is small talk when it is short and every word in it
belongs to :data:`SMALLTALK_WORDS` (greetings, thanks, yes/no, acknowledgements, waiting,
goodbyes and the function words around them); emojis and punctuation are ignored. One word
outside the list ("ok merci, et mon colis ?") makes it a real message.
"""

from __future__ import annotations

import re

from nlp.normalize import fold

MAX_WORDS = 16  # longer messages are never small talk

_FR = """
bonjour bonsoir salut coucou hello re allo rebonjour bjr slt cc hey hi
merci mrc mci beaucoup bcp infiniment remercie remercions mille
ok okay oki dac accord entendu compris note parfait parfaitement super top genial cool nickel
impeccable excellent tres bien bon bonne ca marche roule va vais ira d'accord
oui ouais ouai ouep yes yep non nan nop pas
au revoir bye ciao plus bientot tard tout heure journee soiree weekend week end fin nuit
pour le la les l un une du de des d a en et ou avec sur dans moment instant maintenant
rien autre autres chose c ce cela ca sera est tout juste deja alors donc bah ben euh hmm
ah oh ha haha hihi mdr lol ptdr xd
je j me m moi tu te t toi vous votre vos nous on il y n ne ai as avons avez suis es etes
voir regarder regarde attendre attends patienter patiente reflechir verifier verifie
revenir reviens reviendrai reviens revenons vers contacte recontacte rappelle
la ici presence present vraiment aussi meme
aide aidee aider reponse reponses retour infos information informations renseignement
renseignements precisions explication explications rapide rapidite gentil gentille
sympa aimable attention disponibilite patience comprehension service
bonne continuation excellente agreable belle
cordialement salutations sinceres distinguees
que qui quoi si ce s sans probleme souci soucis
"""
_EN = """
ok okay thanks thank you ty thx cheers great perfect cool fine sure alright awesome nice
no yes yep yeah nope nah bye goodbye good day night morning evening afternoon have a an
see later that's that is it all nothing else for now the moment hello hi hey there i i'll
will check wait let me look got understood np problem much very so again well done
your help reply answer info kind regards best lot take care
"""
SMALLTALK_WORDS = frozenset(fold(w) for w in (_FR + _EN).split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def is_smalltalk(text: str) -> bool:
    """True for a short message made only of small-talk words (see the module doc)."""
    words = _WORD.findall(fold(text).replace("'", " "))
    if len(words) > MAX_WORDS:
        return False
    return all(w in SMALLTALK_WORDS or w.isdigit() for w in words)
