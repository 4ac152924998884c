"""Funding's URLs outside the site's pages: gateway webhooks, the return page, and the built-in sandbox gateway."""

from django.urls import path

from lingkaran.funding import sandbox_views, views

app_name = "funding"

urlpatterns = [
    path("webhooks/<slug:gateway>", views.webhook, name="webhook"),
    path("donations/return/<str:order_id>/", views.payment_return, name="payment_return"),
    # The sandbox gateway (Midtrans-shaped): its server API and its hosted payment page.
    path("sandbox-gateway/snap/v1/transactions", sandbox_views.snap_transactions, name="sandbox_snap"),
    path("sandbox-gateway/v2/<str:order_id>/status", sandbox_views.transaction_status, name="sandbox_status"),
    path("sandbox-gateway/v2/<str:order_id>/refund", sandbox_views.transaction_refund, name="sandbox_refund"),
    path("sandbox-gateway/pay/<str:token>/", sandbox_views.pay_page, name="sandbox_pay"),
]
