import factory

from lingkaran.core.models import RegionAssignment, User
from lingkaran.demo import DEMO_PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="id_ID")
    role = "operator"
    language = "id"
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        self.save()
        for code in extracted or []:
            RegionAssignment.objects.create(user=self, region_code=code)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registry.Region"
        django_get_or_create = ("code",)

    code = "64"
    name = factory.Sequence(lambda n: f"Wilayah {n}")
    level = factory.LazyAttribute(lambda o: o.code.count(".") + 1)
    parent_id = factory.LazyAttribute(lambda o: o.code.rsplit(".", 1)[0] if "." in o.code else None)
    code_list = "test"


class FunderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "funding.Funder"

    name = factory.Sequence(lambda n: f"PT Donatur {n}")
    kind = "company"
    region_code = ""
