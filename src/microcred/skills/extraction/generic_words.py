"""One-word labels that SkillSpan train postings show are rarely skills where they occur.

Learnt, not hand-picked: every one-word gazetteer match on SkillSpan train sentences 1,501–4,800
was checked against the gold skill and knowledge spans; a word seen at least 3 times that lay
inside a gold span at most 40 % of the time is listed ("research", "information", "via", …).
The cut (3 times, 40 %) maximised overlap F1 on train sentences 1–1,500; the dev split was never
used. Such a word counts only when the text writes it exactly as the label does, like the words
of :data:`..gazetteer.AMBIGUOUS_WORDS`.
"""

from microcred.skills.extraction.text import word_set

GENERIC_WORDS = word_set(
    "4 5 6 abov abroad access accommodation accord account action activity add address advic "
    "affect age aid allow already also anyth appl applicant application applied apply approach "
    "area aspect assessment assistanc assistant attach attachment attract attribut audio "
    "authority bank beauty been beer befor behavior belief benefit bespok beverag biomedicin "
    "birth birthday blockchain board both box brand brick bridg broadband broadcast broker "
    "budget bus business call can cannot capacity car card catalogu catch centered centr "
    "certification chain chang channel characteristic chemical child chip choos citizen class "
    "client coffe colleagu collect comparison competenc competency complet completion comply "
    "comput concept concern condition conferenc connect connection consider constantly "
    "construction consultancy consum contact content context continu continually contribut "
    "convert cool copy core cost could cover covid creat creation cultur curriculum cutt cycl "
    "danish date deal decid defined delivered demand demonstrat dental department designer "
    "devic die dimension direct directly disability disciplin discover diseas disorder display "
    "disrupt document doing door draw drawing drill e economic ecosystem edit education either "
    "electricity eliminat employment ems encourag energy engineer enjoy enter enterpris "
    "environment equipment essential establish etc european event evidenc evolution evolv "
    "examination exceed exchang execution exercis expand expected expert expression facility "
    "fashion field fill financ find finger finish fire first fitness focus follow food "
    "football form fresh fulfill fully fun function fundamental furnitur gain game generat "
    "generation geography giv give goal grant ground group grow growth guidanc guidelin hand "
    "happen harness has head health hear high hir history hold home hop hospital hr ide "
    "identity imag immediately immunology impact includ increas industry influenc information "
    "initiativ innovat innovation insight installation instruction instrument insuranc "
    "interaction interactiv interdisciplinary internally internet intervention interview "
    "inventory invit involved involvement ios irregularity item join journey know knowledg "
    "known label laboratory languag last launch law leader learn leav led legislation let "
    "level library lift light list live load loan logistic look machin made main mak mark "
    "market match material maximum meal mean measur medicin meet member membran min minimum "
    "mix mode modul most mostly mov music must near next not note notic notified nurs objectiv "
    "obstetric occur offer often opentabl operat operation operator option organisation origin "
    "other otherwis outsid pack packag paper park part participat participation particular "
    "party patient pay payment peopl performed personality personaliz personnel perspectiv "
    "phas photo physic physical pictur pipe plac placed plant play position possess possibl "
    "post potential prediction preferenc pregnancy prepared pric produc product production "
    "profession professional profil program project promot promotion protection protein proven "
    "provid purchas purpos qualification quantum r rail rang rate read ready reason receiv "
    "received recogniz record recruit reduc referenc referral reflect regularly regulation "
    "rehabilitation remain remotely repair representativ requir required research resourc "
    "review rig robot room rule s safe sale sampl say schem scholarship school scienc "
    "scientist screen seal search second section sector seek segment select selection sell "
    "sensor separat serv servic session shared sheet shift ship should show signatur site "
    "situated situation six size sketch slack smok solid some sound spac specialist specify "
    "spirit split sport spot spread squar stack staff standard stat station status stock stop "
    "stor strength strengthen structur styl suit summary supervisor supplier supply supported "
    "surgery tabl tag tak taken talk task tea teach technology telephon tell temperatur "
    "temporary than them then theology theory they this thos throughout titl together topic "
    "touch toy track trad tradition train transaction transfer translat translation transport "
    "transportation traveller treat treatment tree tube type undergo understand until upload "
    "upon ups urogynaecology user using valu valuabl variety velocity via video view visit "
    "visualization voltag vue walk watch welcom well were what wher whol wine wir wish worker "
    "workshop world wrap yoga "
)
