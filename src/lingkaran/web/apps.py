from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "lingkaran.web"
    label = "web"
