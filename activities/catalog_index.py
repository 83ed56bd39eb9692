"""An in-memory facet index of the published catalog, for filtering, counting and paging in microseconds.

Counting eight facets over 100,000 activities with SQL costs hundreds of milliseconds a page; with one
bitset per facet value it costs a few hundred big-integer ANDs and popcounts. The index holds, for every
published activity, only what filters and sorts need (ids, dates, facet values), in three orders ("spaces":
by start, by credit amount, by title) so any page of any sort is a walk over set bits.

The database stays the truth. ``CatalogState.token`` changes (by trigger, in the same transaction) whenever
a catalog table changes; a process uses its index only while its token matches, and otherwise rebuilds it,
in the background once it has one (serving the previous index meanwhile) or at once when it has none.
Pages are always loaded from the database, which re-checks that each activity is published.
"""

import bisect
import logging
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from activities import vocabulary
from activities.models import (
    Activity,
    CatalogState,
    CreditDesignation,
    CreditType,
    MocApproval,
    Provider,
    Session,
    Specialty,
)

logger = logging.getLogger(__name__)

FACETS = (
    "specialty",
    "activity_type",
    "format",
    "credit_type",
    "moc_board",
    "moc_credit_type",
    "provider",
    "free",
)
SPACES = ("start", "credits", "title")
_RANGE_STEP = 2048  # positions between cumulative range checkpoints
_CHUNK = 64  # bytes of a bitset counted at a time when paging


def _bits_from_positions(positions, nbytes: int) -> int:
    buffer = bytearray(nbytes)
    for p in positions:
        buffer[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buffer, "little")


class _RangeIndex:
    """Positions whose key is below a value, as a bitset: a bisect plus at most one checkpoint's walk."""

    def __init__(self, keys_by_position: array, nbytes: int):
        order = sorted(range(len(keys_by_position)), key=keys_by_position.__getitem__)
        self.keys = array("d", (keys_by_position[p] for p in order))
        self.positions = array("l", order)
        self.nbytes = nbytes
        self.checkpoints = [0]
        buffer = bytearray(nbytes)
        for rank, position in enumerate(order, start=1):
            buffer[position >> 3] |= 1 << (position & 7)
            if rank % _RANGE_STEP == 0:
                self.checkpoints.append(int.from_bytes(buffer, "little"))

    def below(self, key: float) -> int:
        rank = bisect.bisect_left(self.keys, key)
        checkpoint = rank // _RANGE_STEP
        rest = self.positions[checkpoint * _RANGE_STEP : rank]
        return self.checkpoints[checkpoint] | _bits_from_positions(rest, self.nbytes)


class _SpanIndex:
    """Positions that hold at least one key in ``[low, high)``, as a bitset, for activities with many keys.

    The (key, position) pairs are sorted by key; blocks of ``_RANGE_STEP`` consecutive pairs, and unions
    of 2, 4, 8... aligned blocks, are kept as bitsets (a segment tree over blocks). A range is two partial
    blocks walked pair by pair plus at most two unions per level: unlike ``_RangeIndex``, no complement or
    difference of bitsets is taken, since an activity's other keys may lie outside the range.
    """

    def __init__(self, pairs: list[tuple[float, int]], nbytes: int):
        pairs.sort()
        self.keys = array("d", (key for key, _ in pairs))
        self.positions = array("l", (position for _, position in pairs))
        self.nbytes = nbytes
        level = [
            _bits_from_positions(self.positions[start : start + _RANGE_STEP], nbytes)
            for start in range(0, len(pairs) - _RANGE_STEP + 1, _RANGE_STEP)
        ]  # whole blocks only; the tail is walked pair by pair
        self.levels = [level]
        while len(level) > 1:
            level = [level[i] | level[i + 1] for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    def between(self, low: float | None, high: float | None) -> int:
        lo = 0 if low is None else bisect.bisect_left(self.keys, low)
        hi = len(self.keys) if high is None else bisect.bisect_left(self.keys, high)
        if lo >= hi:
            return 0
        first, last = -(-lo // _RANGE_STEP), min(hi // _RANGE_STEP, len(self.levels[0]))
        if first >= last:
            return _bits_from_positions(self.positions[lo:hi], self.nbytes)
        bits = _bits_from_positions(self.positions[lo : first * _RANGE_STEP], self.nbytes)
        bits |= _bits_from_positions(self.positions[last * _RANGE_STEP : hi], self.nbytes)
        for level in self.levels:
            if first >= last:
                break
            if first & 1:
                bits |= level[first]
                first += 1
            if last & 1:
                last -= 1
                bits |= level[last]
            first >>= 1
            last >>= 1
        return bits


class _Space:
    """The published catalog in one order; position ``p`` holds the ``p``-th activity of that order."""

    def __init__(self, name: str, order: list[int], index: "CatalogIndex"):
        self.name = name
        size = len(order)
        self.nbytes = size // 8 + 1
        self.all = (1 << size) - 1
        self.ids = array("q", (index.ids[c] for c in order))
        self.position_of = array("l", bytes(array("l").itemsize * size))  # canonical number -> position
        for position, canonical in enumerate(order):
            self.position_of[canonical] = position
        buffers: dict[tuple[str, object], bytearray] = defaultdict(lambda: bytearray(self.nbytes))
        for position, canonical in enumerate(order):
            byte, bit = position >> 3, 1 << (position & 7)
            for facet, values in zip(FACETS, index.values[canonical], strict=True):
                for value in values:
                    buffers[facet, value][byte] |= bit
        self.bits = {key: int.from_bytes(buffer, "little") for key, buffer in buffers.items()}
        self.start = _RangeIndex(array("d", (index.starts[c] for c in order)), self.nbytes)
        self.end = _RangeIndex(array("d", (index.ends[c] for c in order)), self.nbytes)
        # Activities with sessions match a date range on their sessions' starts, the others on their own.
        self.with_sessions = self.positions(c for c, starts in enumerate(index.session_starts) if starts)
        self.session_start = _SpanIndex(
            [(key, self.position_of[c]) for c, starts in enumerate(index.session_starts) for key in starts],
            self.nbytes,
        )

    def positions(self, canonicals) -> int:
        return _bits_from_positions((self.position_of[c] for c in canonicals), self.nbytes)

    def page(self, mask: int, offset: int, limit: int, *, descending: bool) -> list[int]:
        """The ids at set bits ``offset`` to ``offset + limit`` of ``mask``, in position order."""
        if limit <= 0:
            return []
        raw = mask.to_bytes(self.nbytes, "little")
        forward = range(0, self.nbytes, _CHUNK)
        chunks: Iterable[int] = reversed(forward) if descending else forward
        found: list[int] = []
        skip = offset
        for start in chunks:
            piece = int.from_bytes(raw[start : start + _CHUNK], "little")
            count = piece.bit_count()
            if count <= skip:
                skip -= count
                continue
            bits = []
            while piece:
                low = piece & -piece
                bits.append(start * 8 + low.bit_length() - 1)
                piece ^= low
            if descending:
                bits.reverse()
            for position in bits[skip:]:
                found.append(self.ids[position])
                if len(found) == limit:
                    return found
            skip = 0
        return found


@dataclass
class FacetValue:
    value: str  # as the query string carries it
    label: str
    count: int


@dataclass
class SearchResult:
    total: int
    ids: list[int]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


class CatalogIndex:
    def __init__(self, token: str):
        self.token = token
        self.ids: list[int] = []
        self.starts = array("d")
        self.ends = array("d")  # the last session's end, for an activity with sessions
        self.session_starts: list[tuple[float, ...]] = []
        self.values: list[tuple[tuple, ...]] = []
        self.canonical: dict[int, int] = {}
        self.labels: dict[str, dict[object, tuple[str, str]]] = {}  # facet -> value -> (param, label)
        self.provider_count = 0
        self.spaces: dict[str, _Space] = {}
        self._keyword_cache: dict[tuple[str, int], tuple[list[int], int]] = {}

    @classmethod
    def build(cls) -> "CatalogIndex":
        """Read the published catalog (a handful of queries) and index it."""
        with transaction.atomic():
            token = CatalogState.objects.values_list("token", flat=True).get(pk=1)
            index = cls(token)
            index._load()
        index.spaces = {name: _Space(name, index._order(name), index) for name in SPACES}
        return index

    def _load(self) -> None:
        published = Activity.objects.published()
        rows = list(
            published.values_list(
                "id", "start", "end", "title", "activity_type", "format", "provider_id", "fee_kind"
            )
        )
        specialties = defaultdict(list)
        for activity_id, specialty_id in Activity.specialties.through.objects.filter(
            activity__status=Activity.Status.PUBLISHED
        ).values_list("activity_id", "specialty_id"):
            specialties[activity_id].append(specialty_id)
        credits: defaultdict[int, list[tuple[str, Decimal]]] = defaultdict(list)
        amounts: defaultdict[int, Decimal] = defaultdict(lambda: Decimal(0))
        self.credit_names = {
            code: vocabulary.credit_type_label(code, default=name)
            for code, name in CreditType.objects.values_list("code", "name")
        }
        shared: dict[Decimal, Decimal] = {}  # one object per distinct amount
        for activity_id, code, amount in (
            CreditDesignation.objects.filter(activity__status=Activity.Status.PUBLISHED)
            .order_by("activity_id", "credit_type__position")
            .values_list("activity_id", "credit_type_id", "max_amount")
        ):
            credits[activity_id].append((code, shared.setdefault(amount, amount)))
            amounts[activity_id] = max(amounts[activity_id], amount)
        boards, moc_types = defaultdict(set), defaultdict(set)
        for activity_id, board, moc_type in MocApproval.objects.filter(
            activity__status=Activity.Status.PUBLISHED
        ).values_list("activity_id", "board", "credit_type"):
            boards[activity_id].add(board)
            moc_types[activity_id].add(moc_type)

        sessions: defaultdict[int, list[tuple[float, float]]] = defaultdict(list)
        for activity_id, session_start, session_end in Session.objects.filter(
            activity__status=Activity.Status.PUBLISHED
        ).values_list("activity_id", "start", "end"):
            sessions[activity_id].append((session_start.timestamp(), session_end.timestamp()))

        self.titles, self.amounts = [], []
        self.credits: list[tuple[tuple[str, Decimal], ...]] = []  # by canonical number, for result cards
        for activity_id, start, end, title, activity_type, format_, provider_id, fee_kind in rows:
            self.canonical[activity_id] = len(self.ids)
            self.ids.append(activity_id)
            self.starts.append(start.timestamp())
            own = sessions.get(activity_id, ())
            self.ends.append(max(e for _, e in own) if own else end.timestamp())
            self.session_starts.append(tuple(s for s, _ in own))
            self.titles.append(title.casefold())
            self.amounts.append(amounts[activity_id])
            self.credits.append(tuple(credits[activity_id]))
            self.values.append(
                (
                    tuple(specialties[activity_id]),
                    (activity_type,),
                    (format_,),
                    tuple(code for code, _ in credits[activity_id]),
                    tuple(boards[activity_id]),
                    tuple(moc_types[activity_id]),
                    (provider_id,),
                    (fee_kind == Activity.Fee.FREE,),
                )
            )
        providers: dict[object, tuple[str, str]] = {
            pk: (slug, name) for pk, slug, name in Provider.objects.values_list("pk", "slug", "name")
        }
        self.provider_count = len({values[6][0] for values in self.values})
        self.labels = {
            "specialty": {
                pk: (slug, name) for pk, slug, name in Specialty.objects.values_list("pk", "slug", "name")
            },
            "activity_type": {code: (code, label) for code, label in vocabulary.ACTIVITY_TYPE_CHOICES},
            "format": {code: (code, label) for code, label in vocabulary.FORMAT_CHOICES},
            "credit_type": {
                code: (code, vocabulary.credit_type_label(code, default=name))
                for code, name in CreditType.objects.values_list("code", "name")
            },
            "moc_board": {code: (code, label) for code, label in vocabulary.MOC_BOARD_CHOICES},
            "moc_credit_type": {code: (code, label) for code, label in vocabulary.MOC_CREDIT_TYPE_CHOICES},
            "provider": providers,
            "free": {True: ("true", "Free"), False: ("false", "Paid or variable fee")},
        }

    def _order(self, space: str) -> list[int]:
        numbers = range(len(self.ids))
        if space == "start":
            return sorted(numbers, key=lambda c: (self.starts[c], self.ids[c]))
        if space == "credits":
            return sorted(numbers, key=lambda c: (-self.amounts[c], self.starts[c], self.ids[c]))
        return sorted(numbers, key=lambda c: (self.titles[c], self.ids[c]))

    def credit_badges(self, activity_id: int) -> list[tuple[str, Decimal]]:
        """``(credit type name, maximum)`` pairs of a published activity, in credit type order."""
        number = self.canonical.get(activity_id)
        if number is None:
            return []
        return [(self.credit_names[code], amount) for code, amount in self.credits[number]]

    @property
    def size(self) -> int:
        return len(self.ids)

    def search(
        self,
        *,
        filters: dict[str, object],
        keyword_ids: list[int] | None,
        starts_after: datetime | None,
        starts_before: datetime | None,
        now: datetime | None,
        sort: str,
        offset: int,
        limit: int,
        facets: bool = True,
    ) -> SearchResult:
        """Ids of one page and the facet counts.

        ``filters`` maps a facet to the one value chosen for it. ``keyword_ids`` (None: no keyword) are the
        matching ids in relevance order. ``now`` hides activities that ended before it (None shows them).
        ``sort`` is ``relevance``, ``start``, ``-start``, ``credits`` or ``title``.
        """
        space_name = {"relevance": "start", "start": "start", "-start": "start"}.get(sort, sort)
        space = self.spaces[space_name]
        base = space.all
        if now is not None:
            base &= space.all ^ space.end.below(now.timestamp())
        if starts_after is not None or starts_before is not None:
            low = None if starts_after is None else starts_after.timestamp()
            high = None if starts_before is None else starts_before.timestamp()
            own = space.all ^ space.with_sessions
            if low is not None:
                own &= space.all ^ space.start.below(low)
            if high is not None:
                own &= space.start.below(high)
            base &= own | space.session_start.between(low, high)
        if keyword_ids is not None:
            base &= self._keyword_bits(space, keyword_ids)
        chosen = {facet: space.bits.get((facet, value), 0) for facet, value in filters.items()}
        mask = base
        for bits in chosen.values():
            mask &= bits

        result = SearchResult(total=mask.bit_count(), ids=[])
        if sort == "relevance" and keyword_ids is not None:
            result.ids = self._ranked_page(space, mask, keyword_ids, offset, limit)
        else:
            result.ids = space.page(mask, offset, limit, descending=sort == "-start")
        if facets:
            result.facets = self._facets(space, base, chosen, filters)
        return result

    def _keyword_bits(self, space: _Space, keyword_ids: list[int]) -> int:
        """The bitset of a keyword's matches in ``space``, kept while this index lives (the id list is the
        cache key's identity: the selector hands the same list for the same keywords)."""
        key = (space.name, id(keyword_ids))
        cached = self._keyword_cache.get(key)
        if cached is not None and cached[0] is keyword_ids:
            return cached[1]
        canonical = self.canonical
        bits = space.positions(canonical[i] for i in keyword_ids if i in canonical)
        if len(self._keyword_cache) > 1024:
            self._keyword_cache.clear()
        self._keyword_cache[key] = (keyword_ids, bits)
        return bits

    def _ranked_page(
        self, space: _Space, mask: int, keyword_ids: list[int], offset: int, limit: int
    ) -> list[int]:
        """Matches in relevance order that pass ``mask``, from ``offset``; stops as soon as the page is full."""
        raw = mask.to_bytes(space.nbytes, "little")
        canonical, position_of = self.canonical, space.position_of
        page: list[int] = []
        seen = 0
        for activity_id in keyword_ids:
            number = canonical.get(activity_id)
            if number is None:
                continue
            position = position_of[number]
            if raw[position >> 3] >> (position & 7) & 1:
                if seen >= offset:
                    page.append(activity_id)
                    if len(page) == limit:
                        break
                seen += 1
        return page

    def _facets(
        self, space: _Space, base: int, chosen: dict[str, int], filters: dict
    ) -> dict[str, list[FacetValue]]:
        """For each facet, how many results each of its values would give with the other filters kept."""
        counts: dict[str, list[FacetValue]] = {}
        for facet in FACETS:
            scope = base
            for other, bits in chosen.items():
                if other != facet:
                    scope &= bits
            values = []
            for value, (param, label) in self.labels[facet].items():
                value_bits = space.bits.get((facet, value))
                count = (scope & value_bits).bit_count() if value_bits else 0
                if count or filters.get(facet) == value:
                    values.append(FacetValue(param, label, count))
            values.sort(key=lambda v: (-v.count, v.label))
            counts[facet] = values
        return counts


class _Holder:
    def __init__(self):
        self.index: CatalogIndex | None = None
        self.lock = threading.Lock()
        self.rebuilding = False


_holder = _Holder()


def current_token() -> str:
    return CatalogState.objects.values_list("token", flat=True).get(pk=1)


def get_index() -> CatalogIndex:
    """The catalog index, current with the database (or, while a rebuild runs, the previous one)."""
    token = current_token()
    index = _holder.index
    if index is not None and index.token == token:
        return index
    if index is None or getattr(settings, "CATALOG_INDEX_SYNC", False) or connection.in_atomic_block:
        with _holder.lock:
            if _holder.index is None or _holder.index.token != token:
                _holder.index = CatalogIndex.build()
            return _holder.index
    with _holder.lock:
        if not _holder.rebuilding:
            _holder.rebuilding = True
            threading.Thread(target=_rebuild, name="catalog-index", daemon=True).start()
    return index


def last_index() -> CatalogIndex:
    """The index the last ``get_index`` returned, without asking the database again (within a request)."""
    return _holder.index if _holder.index is not None else get_index()


def _rebuild() -> None:
    try:
        index = CatalogIndex.build()
        with _holder.lock:
            _holder.index = index
    except Exception:
        logger.exception("catalog index rebuild failed; serving the previous index")
    finally:
        _holder.rebuilding = False
        close_old_connections()
        connection.close()


def reset() -> None:
    """Forget the index (tests, and after the database is replaced)."""
    with _holder.lock:
        _holder.index = None
