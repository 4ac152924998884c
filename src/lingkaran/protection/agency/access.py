"""Who may do what with the agency, in one place (the pages, the services and the commands ask here).

* **read** the agency pages (batches, outcomes, imports, the simulator's participants): money staff, that is
  operators, finance officers and auditors (``VIEW_MONEY``);
* **pay**: submit payment batches, download payment files, import payment confirmations: finance officers
  (``MANAGE_MONEY``), the people who answer for the money sent;
* **enrol**: registration batches, the registration file (it carries NIKs in full), registration results, the
  membership status file and the simulator's list of wage earners: operators (``EXPORT_PERSONAL_DATA``, the
  capability that already governs taking personal data out of Lingkaran).

Services called without an actor are system calls (the monthly cycle, management commands) and are not checked.
"""

from __future__ import annotations

from lingkaran.core.access import can, require
from lingkaran.core.domain.roles import Capability

READ = Capability.VIEW_MONEY
PAY = Capability.MANAGE_MONEY
ENROL = Capability.EXPORT_PERSONAL_DATA


def require_read(user) -> None:
    require(user, READ)


def check(actor, capability: Capability) -> None:
    """``require`` for a person; nothing for a system call (``actor`` None)."""
    if actor is not None:
        require(actor, capability)


def may_pay(user) -> bool:
    return can(user, PAY)


def may_enrol(user) -> bool:
    return can(user, ENROL)
