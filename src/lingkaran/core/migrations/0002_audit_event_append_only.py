from django.db import migrations

from lingkaran.core.db import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [AppendOnly("core_auditevent")]
