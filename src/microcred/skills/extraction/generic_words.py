"""One-word labels that SkillSpan train postings show are rarely skills where they occur.

Learnt, not hand-picked: every one-word gazetteer match on SkillSpan train sentences 1,501–4,800
was checked against the gold skill and knowledge spans; a word seen at least 5 times that lay
inside a gold span at most 20 % of the time is listed ("access", "apply", "level", …).
The cut (5 times, 20 %) maximised overlap F1 on train sentences 1–1,500; the dev split was never
used. Relearnt (``benchmarks/skills_generic_words.py``) after the label-recovery repairs removed
most one-word fragments, which had made the earlier list long. Such a word counts only when the
text writes it exactly as the label does, like the words of :data:`..gazetteer.AMBIGUOUS_WORDS`.
"""

from microcred.skills.extraction.text import word_set

GENERIC_WORDS = word_set(
    "access action apply attract bank board choos coffe condition core cover danish decid draw "
    "european fitness form furnitur hear history identity interview last led level measur patient "
    "plac position pregnancy protein purchas sampl schem six sound specialist spread stat surgery "
    "yoga "
)
