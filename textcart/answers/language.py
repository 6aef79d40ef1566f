"""Texts the answer step should not try to answer: another language, or nothing but emoji.

A question in another language would be matched word by word against an English catalog
and answered about the wrong thing; saying plainly that we answer in English (and offering
a person) is the honest reply. Word lists, not a language model: the decision only has to
be right for texts that are clearly not English.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Frequent function words of the languages US shoppers most often text in besides English.
_FOREIGN = frozenset(
    """
    hola tienen tiene tienes talla tallas cuanto cuánto cuesta cuestan gracias por favor estas
    estos esta este quiero puedo envío envio zapatillas zapatos chaqueta donde dónde pedido
    qué cuál tamaño también pero muy los las una del para con sus
    bonjour merci vous avez est-ce taille combien prix livraison commande je suis pour avec
    hallo danke haben sie größe grösse gibt wie viel kostet bestellung ich nicht und
    obrigado obrigada você voce tem tamanho quanto custa pedido não
    ciao grazie avete taglia costa quanto spedizione ordine
    """.split()
)
_ENGLISH = frozenset(
    """
    the a an is are do does did you your i my me it in on of to for and or what how
    have has any can will with this that these those size shoe shoes jacket order
    """.split()
)


def is_other_language(text: str) -> bool:
    """True when the text is clearly not English (foreign function words, or another script)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return False
    letters = [c for c in text if c.isalpha()]
    non_latin = sum(1 for c in letters if ord(c) > 0x24F)
    if letters and non_latin / len(letters) > 0.5:
        return True
    foreign = sum(w in _FOREIGN for w in words)
    english = sum(w in _ENGLISH for w in words)
    return foreign >= 2 and foreign > english


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit (not only emoji or symbols)."""
    return any(c.isalnum() for c in text)
