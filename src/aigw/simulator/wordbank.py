"""Phrase banks for the simulator's prose: plain data, so content.py stays logic only.

Sentences are templates with ``{t}`` (a topic word taken from the prompt) and slots filled from
the small word lists below; the mix reads like a helpful, slightly generic assistant answer.
"""

from __future__ import annotations

OPENERS: tuple[str, ...] = (
    "Here is a short overview of {t}.",
    "Good question. Thinking about {t} is easier once the basics are clear.",
    "Let's walk through {t} step by step.",
    "There are a few things worth knowing about {t}.",
    "Sure. Here is how I would approach {t}.",
    "Questions about {t} come up often, so here is a practical summary.",
)

# ``{t}`` only follows prepositions, so any noun (singular, plural, mass) reads correctly.
SENTENCES: tuple[str, ...] = (
    "The most important thing is to {verb} the {noun} before you {verb2} anything else.",
    "In practice, results with {t} depend on the {noun} more than on the {noun2}.",
    "A common mistake is to {verb} the {noun} too early, which makes the {noun2} harder to manage.",
    "Most people find that a {adj} {noun} works better than a {adj2} one.",
    "If you are new to {t}, start with a {adj} {noun} and build from there.",
    "The {noun} usually matters most, because it shapes how the {noun2} behaves over time.",
    "It also helps to {verb} the {noun} regularly, since small changes add up.",
    "For example, a {adj} {noun} can {verb} the {noun2} without much extra effort.",
    "That said, the details of {t} vary with the {noun}.",
    "Experts often recommend that you {verb} the {noun} and then {verb2} the {noun2}.",
    "One useful rule of thumb is to keep the {noun} {adj} and the {noun2} {adj2}.",
    "This is why work on {t} tends to reward patience more than speed.",
    "You can usually {verb} the {noun} in an afternoon, even with a {adj} budget.",
    "The {adj} part is knowing when to stop and {verb} the {noun2} instead.",
    "Over time, the {noun} becomes more {adj}, and the results follow.",
    "Keep in mind that every {noun} has trade-offs, so choose the one that fits your goals.",
    "Another option is to {verb} a {adj} {noun}, which many teams prefer.",
    "When in doubt, {verb} the {noun} first and measure what happens.",
    "Historically, interest in {t} grew out of a need to {verb} the {noun} more reliably.",
    "Today, most approaches to {t} combine a {adj} {noun} with a clear {noun2}.",
    "The result is a {adj} {noun} that is easy to explain and easy to {verb}.",
    "If something goes wrong, {verb} the {noun} and check the {noun2} again.",
    "Small, {adj} steps tend to work better than one large change.",
    "Finally, remember that getting good at {t} takes practice.",
)

CLOSERS: tuple[str, ...] = (
    "Let me know if you would like more detail on any of these points.",
    "I hope this helps you get started with {t}.",
    "If you share more about your situation, I can tailor this further.",
    "Feel free to ask if you want examples or a deeper comparison.",
)

REASONING: tuple[str, ...] = (
    "The user is asking about {t}, so I should start with the essentials.",
    "Let me think about what matters most here: the {noun} or the {noun2}.",
    "I should check whether a {adj} {noun} is really the best fit.",
    "First, consider how the {noun} interacts with the {noun2}.",
    "Maybe I can {verb} the {noun} first and then explain the {noun2}.",
    "Wait, I should also mention that the answer on {t} varies with the {noun}.",
    "Okay, a short structured answer seems right, with one example.",
    "I need to keep this {adj} and avoid going too deep into the {noun2}.",
)

NOUNS: tuple[str, ...] = tuple(
    """plan process budget schedule design method structure goal system routine outcome
    approach context timeline framework team result habit setup strategy baseline feedback
    priority resource""".split()
)
VERBS: tuple[str, ...] = tuple(
    """review simplify measure adjust define test document organize improve compare prepare
    check refine plan balance track""".split()
)
ADJECTIVES: tuple[str, ...] = tuple(
    """simple clear flexible practical reliable careful steady focused modest consistent
    realistic thoughtful small robust useful balanced""".split()
)

# Words that say what to do rather than what it is about; never used as topics.
STOPWORDS: frozenset[str] = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours out over own same she should so some such than that the their theirs them
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself please tell give
    write explain describe list make create invent show find help want need know like think
    using use used call tool tools function brief short long detail details answer question
    say said get got let lets one two three new way ways thing things really could would""".split()
)

FIRST_NAMES: tuple[str, ...] = tuple("Ada Grace Alan Maya Liam Noor Kenji Sofia".split())
LAST_NAMES: tuple[str, ...] = tuple("Lovelace Hopper Turing Patel Okafor Tanaka".split())
CITIES: tuple[str, ...] = tuple("Paris Tokyo London Lisbon Toronto Nairobi Seoul".split())
COUNTRIES: tuple[str, ...] = ("France", "Japan", "United Kingdom", "Portugal", "Canada", "Kenya")
