"""Draft a few conversation openers for a contact, from what the user knows about them.

Openers are short, curious questions about the other person (coaching hurdles 3, 4 and 7):
their wins and interests, their work, their family, the time they shared with the user. They
never pitch, ask for a favour or talk about the user's search, and use no he/she pronouns
(we don't know the contact's).

The user's notes are free text: "just promoted to COO", "his wife passed away last year",
"https://linkedin.com/in/…", "ex-Google, sails every summer". Nothing from them is pasted into a
sentence. Each fragment is *classified* (:func:`topics`) into the few shapes notes take — a
recent win, an interest, a family detail, a move, a company (current or former) — and an opener
is written from the shape, quoting at most a proper name (a company or a city, "COO" after
"promoted to") that passed strict checks. Fragments that fit no shape are left out. Sensitive
fragments (bereavement, illness, health, divorce, layoffs) are never used and make the generic
questions gentler; URLs are never used.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from bot.core.model import Contact
from bot.core.names import address
from bot.core.text import clean, one_line

#: The longest opener we produce: short enough to paste into any chat or text message.
OPENER_MAX = 280
#: The longest note fragment considered (longer ones are cut at a sensible boundary).
FRAGMENT_MAX = 80
#: Longest company or place name used in an opener.
_NAME_MAX = 40

# --- splitting notes into fragments -----------------------------------------------------------

# Fragment separators: semicolons, newlines, bullets, bars, CJK punctuation, commas that are not
# thousands separators, and sentence ends after a word of four or more characters (so "St. Louis"
# and "Dr. Ortiz" stay whole).
_SPLIT = re.compile(r"[;\n•·|；，、。]+|(?<!\d),|,(?!\d)|(?<=\w{4}[.!?])\s+")
_EDGE_JUNK = " \t-–—*•·>:,.;!?"
_BRACES = re.compile(r"[{}]")
_SPACES = re.compile(r"\s+")
_CLAUSE_BREAKS = (" - ", " – ", " — ", " (", ": ", " and ", " but ", " because ", " which ")
_CLAUSE_MIN = 15
_PLACEHOLDERS = frozenset(("none", "n/a", "na", "nil", "null", "tbd", "unknown", "nothing", "-"))
_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("«", "»"), ("„", "“"), ("「", "」"))


def interest_fragments(notes: str) -> list[str]:
    """Split free-text notes into short, tidied fragments (for showing the user their own notes
    and for classifying; never pasted into an opener).

    ``"just promoted to COO; sails every summer, two kids in college"`` gives three fragments.
    Each is tidied (no edge punctuation, bullets, braces or unbalanced quotes) and at most
    :data:`FRAGMENT_MAX` characters; fragments without letters or digits and duplicates (ignoring
    case) are dropped. Order is kept.
    """
    fragments: list[str] = []
    seen: set[str] = set()
    for fragment in _fragments(notes):
        key = fragment.casefold()
        if key not in seen:
            seen.add(key)
            fragments.append(fragment)
    return fragments


def first_interest(notes: str) -> str | None:
    """The first of :func:`interest_fragments` that is neither sensitive nor a link (the
    morning pass asks this of tens of thousands of contacts, so the rest is not tidied)."""
    if not notes:
        return None
    return next(
        (f for f in _fragments(notes) if not _SENSITIVE.search(f) and not _URL.search(f)), None
    )


def _fragments(notes: str) -> Iterator[str]:
    for raw in _SPLIT.split(clean(notes)):
        fragment = _cut(_tidy(raw), FRAGMENT_MAX)
        if _says_something(fragment):
            yield fragment


# --- classifying fragments ----------------------------------------------------------------------

# Never in an opener, and a reason to keep the generic questions gentle. Several languages,
# because people write notes in their own.
_SENSITIVE = re.compile(
    r"pass(?:ed|ing) away|\bdied\b|\bdeath\b|\bdead\b|funeral|bereave|\bwidow|\bgrie(?:f|ving)|"
    r"\blost (?:his|her|their|a|the) (?:wife|husband|partner|mother|mom|mum|father|dad|son|"
    r"daughter|child|baby|brother|sister|parent|job)|\bloss of\b|memorial|"
    r"cancer|chemo|tumou?r|\bill\b|illness|\bsick|hospital|surgery|diagnos|disease|stroke|"
    r"heart attack|injur|health|medical|therapy|rehab|depress|anxiety|burn ?out|mental|"
    r"miscarr|pregnan|ivf|disabilit|dementia|alzheimer|recover|"
    r"divorc|separat|split up|broke up|break-?up|custody|"
    r"laid off|lay-?offs?|let go|\bfired\b|redundan|unemploy|between jobs|job ?hunt|"
    r"looking for (?:a |work|a new)|open to work|out of work|lost (?:his|her|their) job|"
    r"restructur|downsiz|severance|"
    r"verstorben|gestorben|krank|scheidung|fallec|muri|cáncer|enferm|divorcio|décéd|malad|"
    r"licenci|entlassen",
    re.IGNORECASE,
)
_URL = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|org|net|io|co|ai|dev|app|me|uk|de|fr)\b|linkedin|@\w+\.\w",
    re.IGNORECASE,
)
# About the user's own search, or a favour: asking about it would read as a pitch.
_PITCHY = re.compile(
    r"\bhir(?:e|es|ed|ing)\b|recruit|\bjobs?\b|opening|referr|intro(?:duction|duce)?\b|"
    r"\bresume|\bcv\b|could help|can help|owes? me|favou?r|reference",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:hates?|dislikes?|not|no longer|never|gave up|quit|stopped|can'?t|doesn'?t|don'?t|"
    r"allergic|used to)\b",
    re.IGNORECASE,
)
_FORMER = re.compile(
    r"\b(?:former(?:ly)?|ex-?|previously|used to|retired|left|was (?:the |a |an )?|until \d{4}|"
    r"emeritus)\b|\bex-|\b(?:19|20)\d{2}\s*[-–—]\s*(?:19|20)\d{2}",
    re.IGNORECASE,
)

_ROLE_WORD = (
    r"c[a-z]?o|ceo|cfo|coo|cto|cio|cmo|cpo|cro|ciso|chro|cdo|vp|svp|evp|avp|vice president|"
    r"president|director|head|manager|partner|founder|co-?founder|chair(?:man|woman|person)?|"
    r"engineer|designer|developer|professor|lecturer|analyst|consultant|counsel|attorney|"
    r"lawyer|architect|scientist|researcher|editor|principal|lead|controller|treasurer|"
    r"gm|general manager|officer|owner|md|managing director|dean|superintendent|captain"
)
_ROLE_HEAD = re.compile(rf"\b(?:{_ROLE_WORD})\b", re.IGNORECASE)
# A role worth naming after "promoted to": two to six words of capitalised words, role words and
# a few linking words ("VP of Engineering", "COO", "Head of Design").
_ROLE_TOKEN = re.compile(rf"^(?:[A-Z][\w&/-]*|{_ROLE_WORD}|of|and|&|for|the|senior|chief)$", re.I)
_ROLE_LINKS = frozenset(("of", "and", "&", "for", "the"))

# "at Brightline 2016–2020", "@ Acme": the name is the run of capitalised words after "at".
_AT = re.compile(r"(?:^|(?<=\s))(?:at|@|with|joined|for)\s+", re.IGNORECASE)
_STOP_WORDS = frozenset(
    [
        "in",
        "from",
        "during",
        "between",
        "until",
        "till",
        "for",
        "when",
        "where",
        "while",
        "and",
        "or",
        "but",
        "before",
        "after",
        "back",
        "since",
        "as",
        "with",
        "years",
        "year",
        "on",
        "to",
        "the",
        "a",
        "an",
        "of",
        "now",
        "last",
        "this",
        "next",
    ]
)


@dataclass(frozen=True, slots=True)
class Topic:
    """Something about the contact an opener can ask about.

    ``kind`` is one of "win", "interest", "family", "move", "work", "past"; ``key`` tells two
    topics about the same thing apart (one opener per key); ``bodies`` are the ways to ask,
    each a complete question that follows a greeting ("Hi Dana, …"); ``ask`` is one question to
    ask in person.
    """

    kind: str
    key: str
    bodies: tuple[str, ...]
    #: One self-contained question to ask in person (``prep``).
    ask: str = ""


_HOBBIES: tuple[tuple[str, str], ...] = (
    (r"\bsail", "sailing"),
    (r"\bjazz\b", "jazz"),
    (r"\bchess\b", "chess"),
    (r"\bgolf", "golf"),
    (r"\btennis\b", "tennis"),
    (r"\bpadel\b", "padel"),
    (r"\bsquash\b", "squash"),
    (r"\btriathl", "triathlons"),
    (
        r"\bmarathon|\bhalf-marathon|\bultra(?:s|marathon)?\b|\brun(?:s|ning|ner)?\b|\b[15]0?k\b",
        "running",
    ),
    (r"\bcycl|\bbik(?:e|es|ing)\b|\bpeloton\b", "cycling"),
    (r"\bhik(?:e|es|ing|er)\b|\bhillwalk|\btrekk", "hiking"),
    (r"\bclimb", "climbing"),
    (r"\bski(?:s|ing|er)?\b", "skiing"),
    (r"\bsurf", "surfing"),
    (r"\bswim", "swimming"),
    (r"\browing\b|\brows\b", "rowing"),
    (r"\bkayak", "kayaking"),
    (r"\bphotograph", "photography"),
    (r"\bpaint(?:s|ing|er)\b|\bwatercolou?r", "painting"),
    (r"\bbak(?:e|es|ing|er)\b|\bsourdough", "baking"),
    (r"\bcook(?:s|ing)?\b|\bchef\b", "cooking"),
    (r"\bgarden", "gardening"),
    (r"\bwoodwork", "woodworking"),
    (r"\bpotter(?:y)?\b|\bceramic", "pottery"),
    (r"\bbook club\b|\breads?\b|\breading\b|\bnovels?\b", "reading"),
    (r"\bpiano\b", "the piano"),
    (r"\bguitar", "the guitar"),
    (r"\bviolin", "the violin"),
    (r"\bcello\b", "the cello"),
    (r"\bchoir\b|\bsing(?:s|ing|er)\b", "singing"),
    (r"\bopera\b", "opera"),
    (r"\btheat(?:re|er)\b", "the theatre"),
    (r"\bwine\b|\bvineyard", "wine"),
    (r"\bcoffee\b", "coffee"),
    (r"\btravel", "travel"),
    (r"\byoga\b", "yoga"),
    (r"\bmeditat", "meditation"),
    (r"\bfish(?:es|ing)\b|\bfly-?fish", "fishing"),
    (r"\bbirdwatch|\bbirding\b", "birdwatching"),
    (r"\bknit", "knitting"),
    (r"\bpodcast", "podcasts"),
    (r"\bwrit(?:es|ing)\b|\bblog", "writing"),
    (r"\bboard games?\b", "board games"),
    (r"\bvolunteer", "volunteering"),
    (r"\bmentor(?:s|ing)\b", "mentoring"),
    (r"\bcoach(?:es|ing)\b", "coaching"),
    (r"\bsoccer\b", "soccer"),
    (r"\bfootball\b", "football"),
    (r"\bbasketball\b", "basketball"),
    (r"\bbaseball\b", "baseball"),
    (r"\bcricket\b", "cricket"),
    (r"\brugby\b", "rugby"),
    (r"\bhockey\b", "hockey"),
    (r"\bdanc(?:e|es|ing)\b|\bsalsa\b|\btango\b", "dancing"),
    (r"\briding\b|\bhorses?\b|\bequestrian", "riding"),
    (r"\bcamping\b", "camping"),
    (r"\bastronom|\btelescope", "astronomy"),
    (r"\bcrossword", "crosswords"),
)
_HOBBY_PATTERNS = tuple((re.compile(p, re.IGNORECASE), noun) for p, noun in _HOBBIES)
_LANGUAGES = [
    "Italian",
    "Spanish",
    "French",
    "German",
    "Portuguese",
    "Japanese",
    "Mandarin",
    "Chinese",
    "Korean",
    "Arabic",
    "Dutch",
    "Greek",
    "Russian",
    "Hindi",
    "Swedish",
    "Norwegian",
    "Danish",
    "Polish",
    "Turkish",
    "Hebrew",
    "Cantonese",
    "Vietnamese",
]
_LEARNING = re.compile(r"\blearn(?:s|ing|t)?\s+(?P<lang>" + "|".join(_LANGUAGES) + r")\b", re.I)

_RELATIONS = (
    ("kids", r"\bkids?\b|\bchildren\b|\bchild\b"),
    ("twins", r"\btwins\b"),
    ("grandchildren", r"\bgrand(?:kids?|children|child|son|daughter|baby)\b"),
    ("daughter", r"\bdaughters?\b"),
    ("son", r"\bsons?\b"),
    ("wife", r"\bwife\b"),
    ("husband", r"\bhusband\b"),
)
_RELATION_PATTERNS = tuple((rel, re.compile(p, re.IGNORECASE)) for rel, p in _RELATIONS)
_PLURAL_WORDS = re.compile(
    r"\b(?:two|three|four|five|2|3|4|5)\s+(?:kids|children|daughters|sons)\b|\bkids\b|"
    r"\bchildren\b|\btwins\b|\bdaughters\b|\bsons\b|\bgrand(?:kids|children)\b",
    re.IGNORECASE,
)

_WINS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), key, bodies)
    for pattern, key, bodies in (
        (
            r"\b(?:made|became|named|elected)\s+(?:a\s+)?partner\b",
            "partner",
            (
                "congratulations on making partner! What has changed most in your day-to-day?",
                "congratulations on making partner — well deserved. What are you most excited "
                "to take on?",
            ),
        ),
        (
            r"\b(?:published|wrote|writing|released|launched)\s+(?:a|an|the|his|her|their|"
            r"first|second|new)?\s*(?:new\s+)?book\b|\bbook (?:came out|is out|launch)",
            "book",
            (
                "congratulations on the book! What was the hardest part to get right?",
                "I heard about the book — congratulations! What made you want to write it?",
            ),
        ),
        (
            r"\braised\b.*\b(?:series [a-e]|seed|round|funding|million|m\b|\$)|"
            r"\b(?:series [a-e]|seed round)\b",
            "funding",
            (
                "congratulations on the funding round! What are you most looking forward to "
                "building next?",
                "congratulations on closing the round! What's the next big milestone?",
            ),
        ),
        (
            r"\b(?:ipo|went public|got acquired|was acquired|been acquired|sold (?:the|his|her|"
            r"their) (?:company|business|startup))\b",
            "exit",
            (
                "congratulations on the acquisition news! What are you turning your attention "
                "to next?",
            ),
        ),
        (
            r"\b(?:won|wins|awarded|received)\b.*\b(?:award|prize|medal|title|championship|"
            r"cup)\b|\baward(?:ed)?\b",
            "award",
            (
                "congratulations on the award! What's the work behind it that you're proudest of?",
                "I heard about the award — congratulations! How did it feel?",
            ),
        ),
        (
            r"\b(?:launched|shipped|released|opened|started|founded)\s+(?:a|an|the|his|her|"
            r"their|its)?\s*(?:own\s+|new\s+)?(?:app|product|company|startup|business|"
            r"podcast|firm|practice|restaurant|shop|store|fund|agency|studio|newsletter)\b",
            "launch",
            (
                "congratulations on the launch! How has it been received so far?",
                "I heard about the launch — congratulations! What has surprised you most since?",
            ),
        ),
        (
            r"\b(?:finished|ran|completed|did)\s+(?:\S+\s+){0,2}(?:half[- ])?"
            r"(?:marathon|ironman|triathlon|ultra)\b",
            "race",
            (
                "congratulations on the race! Is the next one already on the calendar?",
                "I heard you finished the race — congratulations! How did it go?",
            ),
        ),
        (
            r"\b(?:finished|completed|earned|got|defended)\s+(?:a|an|the|his|her|their)?\s*"
            r"(?:phd|doctorate|mba|masters?|master's|degree|dissertation)\b",
            "degree",
            ("congratulations on finishing the degree! What's next now that it's done?",),
        ),
        (
            r"\b(?:bought|new)\s+(?:a\s+)?(?:house|home|flat|apartment)\b",
            "home",
            ("congratulations on the new home! How are you settling in?",),
        ),
        (
            r"\b(?:got|getting)\s+married\b|\b(?:their|his|her)?\s*wedding\b|\bjust married\b",
            "wedding",
            ("congratulations on the wedding! How was the big day?",),
        ),
        (
            r"\bengaged\b",
            "engaged",
            ("congratulations on the engagement! Have you started planning the big day?",),
        ),
        (
            r"\b(?:new baby|had a baby|had twins|became a (?:mom|mum|dad|father|mother|parent)|"
            r"first child|baby (?:boy|girl))\b",
            "baby",
            ("congratulations on the new baby! How is everyone doing?",),
        ),
        (
            r"\bretir(?:ed|ing|ement)\b",
            "retired",
            (
                "how are you enjoying retirement? I'd love to hear what's filling your days.",
                "what has surprised you most about life after full-time work? I'd love to hear "
                "what you've been enjoying.",
            ),
        ),
    )
)
_PROMOTED = re.compile(r"\bpromot(?:ed|ion)\b(?:\s+(?:to|as)\s+(?P<role>.+))?", re.IGNORECASE)
_NEW_ROLE = re.compile(
    r"\b(?:started|starting|joined|joining|new (?:role|job|position|gig)|took a (?:role|job)|"
    r"now (?:works? )?(?:at|with)|switched to)\b",
    re.IGNORECASE,
)
_MOVED = re.compile(
    r"\b(?:moved|moving|relocat(?:ed|ing))\s+(?:back\s+)?to\s+|\blives?\s+in\s+|\bliving\s+in\s+|"
    r"\bbased\s+in\s+",
    re.IGNORECASE,
)
_SCHOOL = re.compile(r"\b(?:college|university|uni|school|kindergarten)\b", re.IGNORECASE)
_GRADUATED = re.compile(r"\bgraduat", re.IGNORECASE)


def topics(notes: str) -> tuple[list[Topic], bool]:
    """What an opener could ask about, from free-text notes, and whether anything sensitive was
    noted (the generic questions are then kept gentle). Unclassifiable fragments are dropped."""
    found: list[Topic] = []
    sensitive = False
    for fragment in interest_fragments(notes):
        if _SENSITIVE.search(fragment):
            sensitive = True
            continue
        if _URL.search(fragment) or _PITCHY.search(fragment):
            continue
        topic = _classify(fragment)
        if topic is not None and all(t.key != topic.key for t in found):
            found.append(topic)
    return found, sensitive


def talking_point(notes: str) -> str | None:
    """A short, safe noun phrase about the first usable thing in ``notes`` ("sailing", "the
    promotion", "the new home"), for lines such as "Ask Dana about …"; ``None`` if none."""
    found, _ = topics(notes)
    for topic in found:
        if topic.kind == "interest":
            return topic.key.removeprefix("interest:")
        if topic.kind == "win":
            return _WIN_NOUNS.get(topic.key.removeprefix("win:"))
        if topic.kind == "family":
            return "the family"
    return None


_WIN_ASKS = {
    "partner": "What has changed most since making partner?",
    "book": "What was the hardest part of writing the book?",
    "funding": "What are you most looking forward to building after the funding round?",
    "exit": "What are you turning your attention to after the acquisition?",
    "award": "What's the work behind the award that you're proudest of?",
    "launch": "How has the launch been received so far?",
    "race": "How did the race go, and is the next one on the calendar?",
    "degree": "What's next now that the degree is done?",
    "home": "How are you settling into the new home?",
    "wedding": "How was the wedding?",
    "engaged": "How are the wedding plans coming along?",
    "baby": "How is everyone doing with the new baby?",
    "retired": "What has surprised you most about retirement?",
}

_WIN_NOUNS = {
    "partner": "making partner",
    "book": "the book",
    "funding": "the funding round",
    "exit": "the acquisition",
    "award": "the award",
    "launch": "the launch",
    "race": "the race",
    "degree": "the degree",
    "home": "the new home",
    "wedding": "the wedding",
    "engaged": "the engagement",
    "baby": "the new baby",
    "retired": "retirement",
    "promotion": "the promotion",
    "new-role": "the new role",
}


def _classify(fragment: str) -> Topic | None:
    """The topic of one (non-sensitive, link-free) fragment, or ``None``."""
    family = _family(fragment)
    if family is not None:
        return family
    promoted = _PROMOTED.search(fragment)
    if promoted is not None and not _NEGATED.search(fragment):
        role = _role(promoted.group("role") or "")
        what = f"becoming {role}" if role else "the promotion"
        return Topic(
            "win",
            "win:promotion",
            (
                f"congratulations on {what}! What has surprised you most about the new role?",
                (f"I heard you became {role}" if role else "I heard about the promotion")
                + " — congratulations! What are you most excited to take on?",
            ),
            "What has surprised you most about the new role so far?",
        )
    for pattern, key, bodies in _WINS:
        if pattern.search(fragment) and not _NEGATED.search(fragment.replace("used to", "")):
            return Topic("win", f"win:{key}", bodies, _WIN_ASKS[key])
    if _NEW_ROLE.search(fragment) and not _FORMER.search(fragment):
        company = _name_after(fragment, _AT) or _name_after(fragment, _NEW_ROLE)
        if company:
            return Topic(
                "win",
                f"work:{company.casefold()}",
                (
                    f"congratulations on the move to {company}! How are the first months going?",
                    f"I heard about {company} — congratulations! What drew you to it?",
                ),
                f"What drew you to {company}, and how are the first months going?",
            )
    if _ROLE_HEAD.search(fragment) and _AT.search(fragment):
        work = _work(fragment)
        if work is not None:
            return work
    moved = _MOVED.search(fragment)
    if moved is not None:
        place = _proper_name(fragment[moved.end() :])
        if place:
            return Topic(
                "move",
                f"place:{place.casefold()}",
                (
                    f"how are you finding {place}? I'd love to hear what you enjoy most about it.",
                    f"what's the best thing about life in {place} so far?",
                ),
                f"What do you enjoy most about {place}?",
            )
    learning = _LEARNING.search(fragment)
    if learning is not None:
        language = learning.group("lang").capitalize()
        return Topic(
            "interest",
            f"interest:{language}",
            (
                f"how is the {language} coming along? I'd love to hear what got you started.",
                f"are you still learning {language}? What has been the most fun part so far?",
            ),
            f"How is the {language} coming along?",
        )
    if _NEGATED.search(fragment):
        return None
    for pattern, hobby in _HOBBY_PATTERNS:
        if pattern.search(fragment):
            return _interest(hobby)
    return None


def _interest(hobby: str) -> Topic:
    return Topic(
        "interest",
        f"interest:{hobby}",
        (
            f"have you had much time for {hobby} lately? I'd love to hear what you've been up to.",
            f"I was thinking of how much you enjoy {hobby}. What's been the highlight lately?",
            f"something reminded me of your love of {hobby}. Any recent favourites?",
        ),
        f"Have you had much time for {hobby} lately?",
    )


def _family(fragment: str) -> Topic | None:
    """A family detail ("two kids in college", "daughter started at Michigan")."""
    relation = next((rel for rel, p in _RELATION_PATTERNS if p.search(fragment)), None)
    if relation is None:
        return None
    plural = bool(_PLURAL_WORDS.search(fragment)) or relation in ("kids", "twins")
    if relation in ("kids", "twins", "grandchildren"):
        who = (
            f"the {relation}"
            if plural
            else {"kids": "your child", "twins": "the twins"}.get(relation, "your grandchild")
        )
    else:
        who = f"your {relation}s" if plural else f"your {relation}"
    verb = "are" if plural else "is"
    bodies: tuple[str, ...]
    if _GRADUATED.search(fragment):
        bodies = (f"congratulations to {who} on graduating! What's next for the family?",)
    elif _SCHOOL.search(fragment) and relation not in ("wife", "husband"):
        school = "university" if re.search(r"\buni(?:versity)?\b", fragment, re.I) else "school"
        if re.search(r"\bcollege\b", fragment, re.I):
            school = "college"
        bodies = (
            f"how {verb} {who} finding {school}? I'd love to hear how everyone is doing.",
            f"how {verb} {who} getting on at {school}? I hope the family is well.",
        )
    elif (
        _NEW_ROLE.search(fragment)
        and (place := _name_after(fragment, _AT))
        and relation not in ("wife", "husband")
    ):
        bodies = (
            f"how {verb} {who} finding {place}? I'd love to hear how everyone is doing.",
            f"how {verb} {who} getting on at {place}? I hope the family is well.",
        )
    elif re.search(r"\bwedding\b|\bmarried\b", fragment, re.I) and not plural:
        bodies = (f"congratulations on {who}'s wedding! How was the day?",)
    elif re.search(r"\bbaby\b|\bborn\b|\bgrand", fragment, re.I):
        bodies = ("congratulations on the new arrival! How is everyone doing?",)
    else:
        bodies = (
            f"how {verb} {who} doing these days? I'd love to hear what everyone's been up to.",
            "how is the family? I'd love to hear what everyone's been up to.",
        )
    return Topic("family", "family", bodies, _capitalise(bodies[0].split("?")[0]) + "?")


def _role(text: str) -> str:
    """A role worth naming after "promoted to" ("COO", "VP of Engineering"), or ``""``."""
    words = _tidy(re.split(r"\s+(?:at|@|in|last|this|after|on|from)\s+|[,;(]", text)[0]).split()
    if not 1 <= len(words) <= 5 or not _ROLE_HEAD.search(" ".join(words)):
        return ""
    if not all(_ROLE_TOKEN.match(w) for w in words) or words[-1].casefold() in _ROLE_LINKS:
        return ""
    role = " ".join(words)
    return role if len(role) <= _NAME_MAX else ""


def _name_after(text: str, marker: re.Pattern[str]) -> str:
    """The first capitalised name after ``marker``: "Brightline" from "my boss at Brightline
    2016"."""
    text = _BRACES.sub("", one_line(text))
    for match in marker.finditer(text):
        name = _proper_name(text[match.end() :])
        if name:
            return name
    return ""


def _proper_name(text: str) -> str:
    """The run of capitalised words at the start of ``text`` ("St. Louis", "Acme Corp"), up to a
    year, a linking word or punctuation; ``""`` if it doesn't start with one."""
    words: list[str] = []
    for word in text.split():
        abbreviation = re.fullmatch(r"(?:St|Mt|Ft)\.", word) is not None  # "St. Louis"
        bare = word if abbreviation else word.strip(_EDGE_JUNK + "()[]\"'“”")
        if not bare or bare[0].isdigit() or bare.casefold() in _STOP_WORDS:
            break
        if not bare[0].isupper() or _ROLE_HEAD.fullmatch(bare):
            break
        if bare.isupper() and len(bare) > 5 and not words:
            break  # shouting ("HIRING", "RETIRED"), not an acronym such as "KPMG"
        if not all(ch.isalnum() or ch in "&.'’-" for ch in bare):
            break
        words.append(bare)
        if word != word.rstrip(",.;:!?()") and not abbreviation:
            break
        if len(words) == 4:
            break
    name = " ".join(words)
    if name.endswith(".") and not name.endswith(("St.", "Mt.", "Ft.")):
        name = name[:-1]
    if not _usable(name) or len(name) > _NAME_MAX or _all_caps_sentence(words):
        return ""
    return name


def _all_caps_sentence(words: Sequence[str]) -> bool:
    """Whether ``words`` look like shouting ("LOVES SAILING") rather than a name."""
    return len(words) > 1 and all(w.isupper() and len(w) > 3 for w in words)


# --- work and shared history ------------------------------------------------------------------


def _work(company_role: str) -> Topic | None:
    """Their company, current or former, from the "company and role" field."""
    text = _tidy(one_line(company_role))
    if not _says_something(text) or _URL.search(text) or _SENSITIVE.search(text):
        return None
    if _PITCHY.search(text):
        return None
    former = bool(_FORMER.search(text))
    company = _name_after(text, _AT)
    if not company:
        for part in re.split(r"\s*[,|/–—]\s*|\s+-\s+", text):
            bare = re.sub(r"^(?:former(?:ly)?|ex-?|retired|previously)\s*", "", part, flags=re.I)
            if bare and not _ROLE_HEAD.search(bare):
                # Without "at", only a part that is a name through and through ("Brightline",
                # "ex-Google") is a company: not the first word of a sentence.
                company = _proper_name(bare)
                if company and company == bare.strip(" .!?"):
                    break
                company = ""
    if not company:
        return None
    key = f"work:{company.casefold()}"
    if former:
        return Topic(
            "past-work",
            key,
            (
                f"I was remembering your years at {company}. What are you most focused on these "
                "days?",
                f"what have you been focusing on since {company}? I'd love to hear what you're "
                "excited about.",
            ),
            f"What have you been focusing on since {company}?",
        )
    return Topic(
        "work",
        key,
        (
            f"how are things at {company} these days? What's the most interesting thing on your "
            "plate right now?",
            f"what's been the biggest change at {company} this year? I'd love to hear how you're "
            "finding it.",
            f"what's keeping you busiest at {company} these days?",
        ),
        f"What's been the biggest change at {company} this year?",
    )


def _shared_past(how_known: str) -> Topic | None:
    """The time the user and the contact shared, from "how you know each other"."""
    text = one_line(how_known)
    if _SENSITIVE.search(text) or _URL.search(text):
        return None
    place = _name_after(text, re.compile(r"(?:^|(?<=\s))(?:at|@)\s+", re.IGNORECASE))
    if not place:
        return None
    return Topic(
        "past",
        f"work:{place.casefold()}",
        (
            f"I was remembering our time at {place} the other day. What's something from those "
            "years that you still find yourself using?",
            f"something reminded me of our days at {place}. Who from back then do you still keep "
            "up with?",
        ),
        f"Who from our {place} days do you still keep up with?",
    )


# --- openers ------------------------------------------------------------------------------------

# Generic questions start in lower case: they follow the greeting ("Hi Dana, what's ...") or are
# capitalised after a lead sentence.
_GENERIC_QUESTIONS = (
    "what's been keeping you busy lately? I'd love to hear how things are going.",
    "what's the most interesting thing you're working on these days?",
    "what's been the highlight of your year so far? I'd love to hear about it.",
    "what's something you've learned this year that surprised you?",
    "how are things, really? What's been the best part of the last few months?",
    "what are you most looking forward to this year?",
)
# After something sensitive was noted: no "highlight of your year".
_GENTLE_QUESTIONS = (
    "how have you been? I'd love to hear how you're doing.",
    "how are things with you these days? No need to reply at length.",
    "what's been keeping you going lately? I'd love to catch up whenever suits you.",
)
_DEFAULT_LEAD = "you came to mind today."
_WARM_LEADS = (
    "I was thinking about people whose judgement I've always valued, and you came to mind.",
    "I've been meaning to get in touch for a while.",
    "I was remembering some of the good conversations we used to have.",
)
_LAST_TALK = (
    "I've been thinking about our last conversation. How have things turned out since?",
    "our last conversation has stayed with me. What has changed since we spoke?",
)


def seed_for(contact_id: int, day: date) -> int:
    """The variation seed of a contact on a day: stable within the day, different across days
    and contacts."""
    digest = hashlib.blake2b(f"{contact_id}:{day.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def openers(
    contact: Contact, *, today: date, seed: int | None = None, preferred: str = ""
) -> list[str]:
    """Two or three short openers for ``contact``, each ready to paste into a message.

    Openers about what the notes, the company and the shared history say come first (up to
    three); generic curious questions fill up to three when something is known and to two when
    nothing is. ``seed`` (default: :func:`seed_for` the contact and ``today``) picks among the
    topics and wordings, so the same contact gets different openers on different days.
    ``preferred`` overrides the contact's preferred name.
    """
    return list(_drafts(contact, today, seed, preferred))


def first_opener(contact: Contact, *, today: date, preferred: str = "") -> str | None:
    """``openers(contact, today=today)[0]`` (``None`` if there is none), drafting only that one:
    the one-line opener under every contact in ``due``, Home and ``list`` needs no more."""
    return next(_drafts(contact, today, None, preferred), None)


def _drafts(contact: Contact, today: date, seed: int | None, preferred: str) -> Iterator[str]:
    """:func:`openers`, one draft at a time, so a caller wanting only the first stops there."""
    if seed is None:
        seed = seed_for(contact.id, today)
    greeting = _greeting(contact, preferred)
    since = _since_last_talk(contact.last_contacted_on, today)
    specific, gentle = _specific_topics(contact)
    # A recent win comes first (congratulations are the warmest way back in); the rest take
    # turns, so the same contact reads differently on different days.
    wins = [t for t in specific if t.kind == "win"][:1]
    rest = [t for t in specific if t not in wins]
    specific = [*wins, *_rotate(rest, seed)]

    drafts: list[str] = []
    for index, topic in enumerate(specific):
        if len(drafts) == 3:
            return
        body = topic.bodies[(seed // 7 + index) % len(topic.bodies)]
        lead = since if not drafts and topic.kind not in ("past",) else ""
        text = _first_fitting(greeting, (_join(lead, body), body))
        if text is not None and text not in drafts:
            drafts.append(text)
            yield text

    wanted = 3 if drafts else 2
    questions = _GENTLE_QUESTIONS if gentle else _GENERIC_QUESTIONS
    leads: list[str] = ["" if gentle else lead for lead in _rotate(_WARM_LEADS, seed)]
    if not drafts:
        leads.insert(0, since or ("" if gentle else _DEFAULT_LEAD))
    for lead, question in zip(leads, _rotate(questions, seed // 5), strict=False):
        if len(drafts) >= wanted:
            return
        text = _first_fitting(greeting, (_join(lead, question), question))
        if text is not None and text not in drafts:
            drafts.append(text)
            yield text


def _specific_topics(contact: Contact) -> tuple[list[Topic], bool]:
    """Everything an opener could be about, most personal first, one per key."""
    found, sensitive = _topics_of(
        contact.notes, contact.last_note, contact.company_role, contact.how_known
    )
    return list(found), sensitive


@functools.lru_cache(maxsize=4096)
def _topics_of(
    notes: str, last_note: str, company_role: str, how_known: str
) -> tuple[tuple[Topic, ...], bool]:
    """:func:`_specific_topics` from the four texts it reads. Cached: reading notes takes some
    80 regular-expression searches, and the same contact is drafted for on every ``due``, Home
    and list (Topics are frozen, so sharing them is safe)."""
    from_notes, sensitive = topics(notes)
    from_last, sensitive_last = topics(last_note)
    found: list[Topic] = []
    keys: set[str] = set()

    def take(topic: Topic | None) -> None:
        if topic is not None and topic.key not in keys:
            keys.add(topic.key)
            found.append(topic)

    for topic in from_notes:
        take(topic)
    for topic in from_last:
        take(topic)
    if last_note and not (from_last or sensitive_last or _URL.search(last_note)):
        take(Topic("last", "last", _LAST_TALK, "How did things turn out since we last spoke?"))
    if not _SENSITIVE.search(company_role):
        take(_work(company_role))
    take(_shared_past(how_known))
    return tuple(found), sensitive or sensitive_last


def copy_text(drafts: Sequence[str]) -> str:
    """The drafts as plain text, one per paragraph, for copying into any message."""
    return "\n\n".join(drafts)


_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def mailto(email: str | None, body: str, *, subject: str = "Catching up") -> str | None:
    """A ``mailto:`` link that opens a new email to ``email`` with ``body`` filled in, or
    ``None`` when no usable address is known."""
    address_ = (email or "").strip()
    if not address_ or len(address_) > 254 or not _EMAIL.match(address_):
        return None
    return (
        f"mailto:{quote(address_, safe='@')}?subject={quote(subject, safe='')}"
        f"&body={quote(body, safe='')}"
    )


def questions(
    contact: Contact, *, today: date, count: int = 3, seed: int | None = None
) -> list[str]:
    """``count`` curious questions to ask in a conversation (for ``prep``): about what the notes
    say first, then open questions. Each is one sentence ending in "?"."""
    if seed is None:
        seed = seed_for(contact.id, today)
    specific, gentle = _specific_topics(contact)
    asked: list[str] = []
    for topic in specific:
        question = topic.ask or _question_of(topic.bodies[seed % len(topic.bodies)])
        if question and question not in asked:
            asked.append(question)
        if len(asked) == count:
            return asked
    pool = _PREP_GENTLE if gentle else _PREP_QUESTIONS
    for question in _rotate(pool, seed):
        if len(asked) == count:
            break
        if question not in asked:
            asked.append(question)
    return asked


_PREP_QUESTIONS = (
    "What has been the most interesting part of your work this year?",
    "What are you most looking forward to in the next few months?",
    "What's something you've changed your mind about recently?",
    "Who has been the most interesting person you've met lately?",
    "What would you do more of if you had the time?",
)
_PREP_GENTLE = (
    "How have you been, really?",
    "What has been helping you lately?",
    "What's been on your mind these days?",
)


def _question_of(body: str) -> str:
    """The question sentence of an opener body, capitalised: "How are things at Acme these
    days?" from "how are things at Acme these days? What's …"."""
    sentences = re.split(r"(?<=[.?!])\s+", body)
    for sentence in sentences:
        if sentence.endswith("?"):
            return _capitalise(sentence)
    return ""


def _first_fitting(greeting: str, bodies: Sequence[str]) -> str | None:
    """The greeting and the first of ``bodies`` that fits :data:`OPENER_MAX`, if any."""
    for body in bodies:
        # Runs of whitespace become one space (str.split's whitespace is re's ``\s``).
        text = " ".join(f"{greeting} {body}".split())
        if len(text) <= OPENER_MAX:
            return text
    return None


def _join(lead: str, body: str) -> str:
    """``lead`` then ``body`` as a new sentence; just ``body`` when there is no lead."""
    return f"{lead} {_capitalise(body)}" if lead else body


def _greeting(contact: Contact, preferred: str = "") -> str:
    """The greeting: "Hi Dana,", "Hi Dr. Okafor,", or a plain "Hi," when no name is usable."""
    name = address(contact.name, preferred or contact.preferred_name)
    return f"Hi {name}," if name else "Hi,"


def _since_last_talk(last: date | None, today: date) -> str:
    """A lowercase opening clause about how long it's been, or ``""`` when unknown."""
    if last is None or last > today:
        return ""
    days = (today - last).days
    if days < 21:
        return "it was good to catch up recently."
    if days < 60:
        return "it was good to catch up a few weeks ago."
    if days < 365:
        return "it's been a few months since we talked, and you came to mind today."
    if days < 730:
        return "it's been over a year since we talked, and you came to mind today."
    return "it's been a few years since we talked, and you came to mind today."


# --- tidying ------------------------------------------------------------------------------------


def _tidy(fragment: str) -> str:
    """Drop braces, edge punctuation and bullets, and quotes or brackets that don't pair up."""
    text = _SPACES.sub(" ", _BRACES.sub("", fragment)).strip(_EDGE_JUNK)
    for opening, closing in _QUOTE_PAIRS:
        if opening == closing:
            unbalanced = text.count(opening) % 2 == 1
        else:
            unbalanced = text.count(opening) != text.count(closing)
        if unbalanced:
            text = text.replace(opening, "").replace(closing, "")
        elif (
            len(text) > 2
            and text.startswith(opening)
            and text.endswith(closing)
            and text.count(opening) == 1 + (opening == closing)
        ):
            text = text[1:-1]
    for opening, closing in (("(", ")"), ("[", "]")):
        if text.count(opening) != text.count(closing):
            text = text.replace(opening, "").replace(closing, "")
    return _SPACES.sub(" ", text).strip(_EDGE_JUNK)


def _cut(text: str, limit: int) -> str:
    """``text`` if short enough, else cut at the first clause break that leaves a useful
    fragment, or else between words (or anywhere, for scripts without spaces) ending with "…".
    """
    if len(text) <= limit:
        return text
    window = text[:limit]
    for separator in _CLAUSE_BREAKS:
        at = window.find(separator, _CLAUSE_MIN)
        if at != -1:
            return _tidy(window[:at])
    head = text[: limit - 1]
    if " " in head[limit // 2 :]:
        head = head.rsplit(" ", 1)[0]
    return _tidy(head) + "…"


def _says_something(fragment: str) -> bool:
    """Whether a note fragment is usable and not a placeholder such as "None" or "n/a"."""
    return _usable(fragment) and fragment.casefold() not in _PLACEHOLDERS


def _usable(text: str) -> bool:
    """Whether ``text`` says something: two letters or digits, or one outside ASCII (e.g. 猫)."""
    alnum = [ch for ch in text if ch.isalnum()]
    return len(alnum) >= 2 or any(not ch.isascii() for ch in alnum)


def _capitalise(text: str) -> str:
    """Upper-case the first letter unless the word is already mixed-case ("iPhone", "eBay")."""
    first_word = text.split(" ", 1)[0]
    if first_word[:1].islower() and first_word == first_word.lower():
        return text[0].upper() + text[1:]
    return text


def _rotate[T](items: Sequence[T], seed: int) -> list[T]:
    """``items`` rotated by ``seed``: the same seed always starts at the same item."""
    if not items:
        return []
    start = seed % len(items)
    return [*items[start:], *items[:start]]
