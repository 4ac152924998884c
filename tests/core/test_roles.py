import pytest

from lingkaran.core.domain.roles import CAPABILITIES, Capability, RoleName, region_within, role_can


@pytest.mark.parametrize(
    ("code", "assigned", "inside"),
    [
        ("64.09", {"64.09"}, True),
        ("64.09.01.1001", {"64.09"}, True),
        ("64.09", {"64"}, True),
        ("64", {"64.09"}, False),
        ("64.1", {"64.10"}, False),
        ("64.10", {"64.1"}, False),
        ("33.74.01", {"64.09", "33.74"}, True),
        ("33.75", {"33.7"}, False),
        ("64.09", set(), False),
    ],
)
def test_region_within(code, assigned, inside):
    assert region_within(code, assigned) is inside


@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (RoleName.OPERATOR, Capability.MANAGE_USERS, True),
        (RoleName.AUDITOR, Capability.MANAGE_USERS, False),
        (RoleName.AUDITOR, Capability.VIEW_AUDIT_LOG, True),
        (RoleName.FIELD_AGENT, Capability.VIEW_AUDIT_LOG, False),
        (RoleName.FUNDER, Capability.VIEW_ALL_FUNDERS, False),
        (RoleName.FINANCE, Capability.MANAGE_MONEY, True),
        (RoleName.OPERATOR, Capability.MANAGE_MONEY, False),
        (RoleName.VERIFIER, Capability.VERIFY_WORKERS, True),
        (RoleName.FIELD_AGENT, Capability.VERIFY_WORKERS, False),
        (RoleName.WORKER, Capability.REVEAL_PERSONAL_DATA, False),
        (None, Capability.VIEW_AUDIT_LOG, False),
    ],
)
def test_role_can(role, capability, allowed):
    assert role_can(role, capability) is allowed


def test_every_capability_is_granted_to_someone_and_auditor_only_reads():
    assert set(CAPABILITIES) == set(Capability)
    writes = {
        Capability.MANAGE_USERS,
        Capability.MANAGE_API_TOKENS,
        Capability.MANAGE_MONEY,
        Capability.REGISTER_WORKERS,
        Capability.VERIFY_WORKERS,
        Capability.IMPORT_WORKERS,
        Capability.EXPORT_PERSONAL_DATA,
        Capability.REVEAL_PERSONAL_DATA,
    }
    for capability in writes:
        assert RoleName.AUDITOR not in CAPABILITIES[capability]
