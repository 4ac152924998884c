from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lingkaran.api"
    label = "api"
