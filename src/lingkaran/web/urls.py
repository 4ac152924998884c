from django.contrib.auth import views as auth_views
from django.urls import path

import lingkaran.web.views_continuation as views_continuation
import lingkaran.web.views_coverage as views_coverage
import lingkaran.web.views_cycles as views_cycles
import lingkaran.web.views_funder_protection as views_funder_protection
import lingkaran.web.views_sponsorships as views_sponsorships
from lingkaran.web import views, views_agency, views_funding, views_imports, views_protection, views_registry

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit_log"),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/new/", views.token_create, name="token_create"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("funders/", views.funder_list, name="funder_list"),
    path("funders/mine/", views.my_funder, name="my_funder"),
    path("funders/<int:funder_id>/", views.funder_detail, name="funder_detail"),
    path("regions/mine/", views.my_regions, name="my_regions"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("healthz", views.healthz, name="healthz"),
]

# The worker registry's pages (registration, list, detail, verification, duplicates).
urlpatterns += views_registry.urlpatterns

# Bulk import of workers (upload, preview, progress, result, reports).
urlpatterns += views_imports.urlpatterns

# Money in trust: public campaigns and the donate flow, transparency, the donor's dashboard, the finance back office.
urlpatterns += views_funding.urlpatterns

# Protection: tariffs (rates, brackets, discount windows, the calculator).
urlpatterns += views_protection.urlpatterns

# The agency (BPJS Ketenagakerjaan): batches and outcomes, files exchanged, the built-in simulator.
urlpatterns += views_agency.urlpatterns

# Sponsorships: the list, the directed form, criteria runs (preview, commit, explanations).
urlpatterns += views_sponsorships.urlpatterns

# Coverage: the public self-service status check (/cek-status/).
urlpatterns += views_coverage.urlpatterns

# The monthly contribution cycle in the back office (runs, progress, lines) and reconciliation with the agency.
urlpatterns += views_cycles.urlpatterns

# The funder view of protection (worker-months, workers, blocks ending, the trace from a payment) and coverage overview.
urlpatterns += views_funder_protection.urlpatterns

# Continuation: co-payment plans (list, new plan with a preview), a worker's plan months, pool, debt and payments.
urlpatterns += views_continuation.urlpatterns
