"""A Hypothesis state machine drives random donations, duplicates, refunds, reservations, postings and voids, and
checks after every step: the ledger balances, no trust account is negative, replaying any event changes nothing, and
``ledger verify`` is clean."""

import uuid
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from lingkaran.ledger import selectors, services
from lingkaran.ledger.domain.posting import AccountType
from lingkaran.ledger.errors import InsufficientFunds, ReservationStateError, ReversalNotAllowed
from lingkaran.ledger.models import JournalEntry, Reservation

DAY = date(2026, 11, 22)
POOL_NAMES = ["a", "b"]


class LedgerMachine(RuleBasedStateMachine):
    donations = Bundle("donations")
    reservations = Bundle("reservations")

    @initialize()
    def open_accounts(self):
        # Every example runs in the test's one transaction, so each gets its own accounts and keys: examples stay
        # independent of each other (and Hypothesis can replay and shrink them).
        self.run = uuid.uuid4().hex[:8]
        self.bank = f"asset:bank:{self.run}"
        self.agency = f"liability:payable:agency:{self.run}"
        self.held = f"liability:reserved:{self.run}"
        self.pools = {name: f"liability:pool:{name}:{self.run}" for name in POOL_NAMES}
        specs = [
            services.AccountSpec(self.bank, "Bank", AccountType.ASSET),
            services.AccountSpec(self.agency, "Agency", AccountType.LIABILITY, is_trust=True),
            services.AccountSpec(self.held, "Held", AccountType.LIABILITY, is_trust=True),
        ]
        specs += [
            services.AccountSpec(code, code, AccountType.LIABILITY, is_trust=True) for code in self.pools.values()
        ]
        for spec in specs:
            services.account_open(spec)
        self.counter = 0
        self.events = []  # (callable) that replays an event

    def _key(self, prefix):
        self.counter += 1
        return f"{prefix}:{self.run}:{self.counter}"

    @rule(target=donations, pool_name=st.sampled_from(POOL_NAMES), amount=st.integers(1, 200_000))
    def donate(self, pool_name, amount):
        pool, bank = self.pools[pool_name], self.bank
        key = self._key("donation")
        entry = services.transfer(key=key, source=bank, target=pool, amount=amount, effective_on=DAY)
        self.events.append(
            lambda: services.transfer(key=key, source=bank, target=pool, amount=amount, effective_on=DAY)
        )
        return entry.pk

    @rule(entry_id=donations)
    def duplicate_delivery(self, entry_id):
        entry = JournalEntry.objects.get(pk=entry_id)
        legs = {leg.side: (leg.account.code, leg.amount) for leg in entry.legs.select_related("account")}
        again = services.transfer(
            key=entry.idempotency_key, source=legs["D"][0], target=legs["C"][0], amount=legs["D"][1], effective_on=DAY
        )
        assert again.pk == entry_id

    @rule(entry_id=consumes(donations))
    def refund(self, entry_id):
        key = f"refund:{self.run}:{entry_id}"
        try:
            services.entry_reverse(entry_id=entry_id, key=key, effective_on=DAY)
        except InsufficientFunds:
            return
        self.events.append(lambda: services.entry_reverse(entry_id=entry_id, key=key, effective_on=DAY))

    @rule(target=reservations, pool_name=st.sampled_from(POOL_NAMES), amount=st.integers(1, 100_000))
    def reserve(self, pool_name, amount):
        pool, held = self.pools[pool_name], self.held
        key = self._key("block")
        try:
            services.reservation_create(key=key, pool=pool, held_in=held, amount=amount, effective_on=DAY)
        except InsufficientFunds:
            return key
        self.events.append(
            lambda: services.reservation_create(key=key, pool=pool, held_in=held, amount=amount, effective_on=DAY)
        )
        return key

    @rule(key=reservations, post=st.booleans())
    def settle(self, key, post):
        if not Reservation.objects.filter(key=key).exists():
            return
        try:
            if post:
                services.reservation_post(key=key, to_account=self.agency, effective_on=DAY)
            else:
                services.reservation_void(key=key, effective_on=DAY)
        except ReservationStateError:
            return

    @rule(data=st.data())
    def replay_an_event(self, data):
        if not self.events:
            return
        before = (JournalEntry.objects.count(), selectors.balances())  # all accounts, other examples' too
        replay = data.draw(st.sampled_from(self.events))
        try:
            replay()
        except ReversalNotAllowed:
            raise AssertionError("a replayed refund must return the first reversal") from None
        assert (JournalEntry.objects.count(), selectors.balances()) == before

    @invariant()
    def books_balance(self):
        if not hasattr(self, "counter"):
            return
        report = selectors.verify()
        assert report.clean, report
        balances = selectors.balances()
        trust = [*self.pools.values(), self.held, self.agency]
        assert all(balances[code] >= 0 for code in trust)
        # Everything the bank received is somewhere in the trust accounts.
        assert balances[self.bank] == sum(balances[code] for code in trust)


def test_random_money_events_keep_the_books_sound(db):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
