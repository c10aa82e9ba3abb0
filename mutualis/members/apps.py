from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "mutualis.members"
    label = "members"
    verbose_name = "Adhérents"
