"""Funders, agreements (PKS) and invoices; campaigns drafted by operators or funder users and published only after an
operator approves them."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from lingkaran.core.errors import Forbidden, InvalidInput
from lingkaran.core.models import AuditEvent
from lingkaran.funding import selectors, services
from lingkaran.funding.errors import AgreementStateError, CampaignStateError, InvoiceExceedsBudget, TargetNotAccepting
from lingkaran.funding.models import Agreement, Campaign, Funder
from lingkaran.ledger.models import Account
from tests.factories import UserFactory
from tests.funding.conftest import make_campaign, start

YEAR = timezone.localdate().year


def png_file(name="foto.png", image_format="PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 20), (11, 110, 79)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- Funders, agreements, invoices ----------------------------------------------------------------------------------


def test_a_funder_is_created_with_its_trust_pool(people):
    funder = services.funder_create(
        actor=people["operator"],
        name="BAZNAS Kabupaten PPU",
        kind=Funder.Kind.ZAKAT_BODY,
        contact_name="Ahmad",
        contact_email="ahmad@baznas.example.id",
    )
    account = Account.objects.get(code=f"liability:pool:funder:{funder.pk}")
    assert account.is_trust
    assert account.owner == f"funding.funder:{funder.pk}"
    assert AuditEvent.objects.filter(action="funding.funder_create").count() == 1


def test_only_operators_and_finance_register_funders(people):
    with pytest.raises(Forbidden):
        services.funder_create(actor=people["donor"], name="PT X", kind="company")
    with pytest.raises(InvalidInput):
        services.funder_create(actor=people["operator"], name="Pemkab", kind="local_government")  # no region
    assert Funder.objects.count() == 0


def test_funder_update_writes_only_what_changed(people):
    funder = services.funder_create(actor=people["operator"], name="PT Bank Daerah", kind="company")
    services.funder_update(actor=people["finance"], funder=funder, contact_phone="0542-123", contact_name="")
    funder.refresh_from_db()
    assert funder.contact_phone == "0542-123"
    events = AuditEvent.objects.filter(action="funding.funder_update")
    assert [e.details["fields"] for e in events] == [["contact_phone"]]
    services.funder_update(actor=people["finance"], funder=funder, contact_phone="0542-123")
    assert events.count() == 1


def test_a_pemda_agreement_names_its_fiscal_year_and_stays_inside_it(people):
    pemda = services.funder_create(
        actor=people["operator"], name="Pemkab PPU", kind="local_government", region_code="64.09"
    )
    kwargs = {
        "actor": people["operator"],
        "funder": pemda,
        "number": "PKS-1",
        "title": "APBD",
        "budget": 3_000_000_000,
        "start_on": date(YEAR, 1, 1),
        "end_on": date(YEAR, 12, 31),
    }
    with pytest.raises(InvalidInput) as excinfo:
        services.agreement_create(**kwargs)
    assert "fiscal_year" in excinfo.value.details["fields"]
    with pytest.raises(InvalidInput):
        services.agreement_create(**{**kwargs, "fiscal_year": YEAR, "end_on": date(YEAR + 1, 3, 31)})
    agreement = services.agreement_create(
        **kwargs,
        fiscal_year=YEAR,
        package="jkk_jkm",
        target_criteria={"regions": ["64.09"], "vulnerability": ["miskin_ekstrem"]},
    )
    assert (agreement.state, agreement.fiscal_year) == ("draft", YEAR)


def test_agreement_criteria_and_named_workers_are_checked(people):
    company = services.funder_create(actor=people["operator"], name="PT Korindo", kind="company")
    base = {
        "actor": people["operator"],
        "funder": company,
        "number": "PKS-2",
        "title": "CSR",
        "budget": 50_400_000,
        "start_on": date(YEAR, 1, 1),
        "end_on": date(YEAR, 6, 30),
    }
    with pytest.raises(InvalidInput):
        services.agreement_create(**base, target_criteria={"colour": "blue"})
    with pytest.raises(InvalidInput):
        services.agreement_create(**base, named_worker_ids=["12"])
    with pytest.raises(InvalidInput):
        services.agreement_create(**{**base, "end_on": date(YEAR - 1, 1, 1)})
    with pytest.raises(InvalidInput):
        services.agreement_create(**{**base, "budget": 50_400_000.0})
    agreement = services.agreement_create(**base, named_worker_ids=[7, 3, 7], package="jkk_jkm_jht")
    assert agreement.named_worker_ids == [3, 7]


def test_invoices_need_an_active_agreement_and_stay_within_its_budget(people):
    company = services.funder_create(actor=people["operator"], name="PT Maju", kind="company")
    agreement = services.agreement_create(
        actor=people["operator"],
        funder=company,
        number="PKS-3",
        title="CSR",
        budget=1_000_000,
        start_on=date(YEAR, 1, 1),
        end_on=date(YEAR, 12, 31),
    )
    due = timezone.localdate() + timedelta(days=14)
    with pytest.raises(AgreementStateError):
        services.invoice_issue(actor=people["finance"], agreement=agreement, amount=500_000, due_on=due)
    services.agreement_activate(actor=people["operator"], agreement=agreement)
    with pytest.raises(Forbidden):
        services.invoice_issue(actor=people["operator"], agreement=agreement, amount=500_000, due_on=due)
    first = services.invoice_issue(actor=people["finance"], agreement=agreement, amount=600_000, due_on=due)
    with pytest.raises(InvoiceExceedsBudget) as excinfo:
        services.invoice_issue(actor=people["finance"], agreement=agreement, amount=400_001, due_on=due)
    assert excinfo.value.details["available"] == 400_000
    second = services.invoice_issue(actor=people["finance"], agreement=agreement, amount=400_000, due_on=due)
    assert first.payment_reference != second.payment_reference
    assert first.number != second.number
    services.agreement_end(actor=people["operator"], agreement=agreement)
    assert Agreement.objects.get(pk=agreement.pk).state == "ended"


# --- Campaigns ------------------------------------------------------------------------------------------------------


def test_an_operator_drafts_submits_and_approves_a_campaign(people):
    operator = people["operator"]
    campaign = make_campaign(operator, approve=False)
    assert campaign.state == "draft"
    assert not selectors.campaigns_public().filter(pk=campaign.pk).exists()
    services.campaign_submit(actor=operator, campaign=campaign)
    campaign = services.campaign_approve(actor=operator, campaign=campaign)
    assert campaign.state == "published"
    assert (campaign.approved_by, campaign.approved_at is not None) == (operator, True)
    assert selectors.campaign_public(campaign.slug) == campaign
    assert Account.objects.get(code=f"liability:pool:campaign:{campaign.pk}").is_trust


def test_a_funder_user_drafts_for_its_own_funder_but_cannot_approve(people):
    funder = services.funder_create(actor=people["operator"], name="PT Bank Jateng", kind="company")
    funder_user = UserFactory(role="funder")
    services.funder_add_member(funder=funder, user=funder_user, team="reporting")
    campaign = make_campaign(funder_user, approve=False, title="Nelayan Kendal")
    assert campaign.funder == funder
    services.campaign_submit(actor=funder_user, campaign=campaign)
    with pytest.raises(Forbidden):
        services.campaign_approve(actor=funder_user, campaign=campaign)
    with pytest.raises(Forbidden):
        services.campaign_approve(actor=people["finance"], campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).state == "pending_approval"
    other_funder_user = UserFactory(role="funder")
    other = services.funder_create(actor=people["operator"], name="PT Lain", kind="company")
    services.funder_add_member(funder=other, user=other_funder_user, team="reporting")
    with pytest.raises(Forbidden):
        services.campaign_update(actor=other_funder_user, campaign=campaign, title="Bukan milikmu")


def test_workers_and_donors_cannot_draft_campaigns(people):
    with pytest.raises(Forbidden):
        make_campaign(people["donor"], approve=False)
    lone_funder_user = UserFactory(role="funder")
    with pytest.raises(Forbidden):
        make_campaign(lone_funder_user, approve=False)


def test_a_campaign_is_never_published_without_the_approval_step(people):
    campaign = make_campaign(people["operator"], approve=False)
    with pytest.raises(CampaignStateError):
        services.campaign_approve(actor=people["operator"], campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).state == "draft"


def test_editing_a_submitted_campaign_sends_it_back_to_draft(people):
    operator = people["operator"]
    campaign = make_campaign(operator, approve=False)
    services.campaign_submit(actor=operator, campaign=campaign)
    campaign = services.campaign_update(actor=operator, campaign=campaign, goal_amount=10_080_000)
    assert (campaign.state, campaign.goal_amount) == ("draft", 10_080_000)


def test_the_operator_returns_or_closes_a_campaign(people):
    operator = people["operator"]
    campaign = make_campaign(operator, approve=False)
    services.campaign_submit(actor=operator, campaign=campaign)
    with pytest.raises(InvalidInput):
        services.campaign_return(actor=operator, campaign=campaign, note=" ")
    assert services.campaign_return(actor=operator, campaign=campaign, note="Foto kurang jelas").state == "draft"
    published = make_campaign(operator, title="Petani Waru")
    closed = services.campaign_close(actor=operator, campaign=published)
    assert closed.state == "closed"
    assert selectors.campaign_public(closed.slug) == closed  # still public, for transparency
    with pytest.raises(TargetNotAccepting):
        start(closed)


def test_only_published_running_campaigns_take_donations(people):
    draft = make_campaign(people["operator"], approve=False)
    with pytest.raises(TargetNotAccepting):
        start(draft)
    published = make_campaign(people["operator"], title="Pemulung Semarang")
    Campaign.objects.filter(pk=published.pk).update(end_on=timezone.localdate() - timedelta(days=1))
    published.refresh_from_db()
    with pytest.raises(TargetNotAccepting):
        start(published)


def test_a_campaign_image_must_really_be_an_image(people):
    campaign = make_campaign(people["operator"], approve=False, image=png_file())
    assert campaign.image.name.startswith("campaigns/")
    fake = SimpleUploadedFile("foto.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(InvalidInput) as excinfo:
        make_campaign(people["operator"], approve=False, image=fake, title="Palsu")
    assert "image" in excinfo.value.details["fields"]
    renamed = png_file(name="foto.jpg")  # PNG content under a .jpg name
    with pytest.raises(InvalidInput):
        make_campaign(people["operator"], approve=False, image=renamed, title="Salah nama")


def test_campaign_goals_are_whole_rupiah_and_end_in_the_future(people):
    with pytest.raises(InvalidInput):
        make_campaign(people["operator"], approve=False, goal_amount=5_040_000.0)
    with pytest.raises(InvalidInput):
        services.campaign_create(
            actor=people["operator"],
            title="Lama",
            story="x",
            goal_workers=1,
            goal_months=1,
            goal_amount=8_400,
            end_on=timezone.localdate(),
        )
