"""The donors' names and e-mail addresses in clear are gone (sealed by 0006). The columns first get an empty default,
so that backwards they come back on existing rows, and 0006 fills them again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("funding", "0006_donor_data_sealed")]

    operations = [
        migrations.AlterField(
            model_name="donation", name="donor_name", field=models.CharField(default="", max_length=150)
        ),
        migrations.AlterField(
            model_name="donation", name="donor_email", field=models.EmailField(blank=True, default="", max_length=254)
        ),
        migrations.AlterField(
            model_name="recurringdonation", name="donor_name", field=models.CharField(default="", max_length=150)
        ),
        migrations.AlterField(
            model_name="recurringdonation",
            name="donor_email",
            field=models.EmailField(blank=True, default="", max_length=254),
        ),
        migrations.RemoveField(model_name="donation", name="donor_name"),
        migrations.RemoveField(model_name="donation", name="donor_email"),
        migrations.RemoveField(model_name="recurringdonation", name="donor_name"),
        migrations.RemoveField(model_name="recurringdonation", name="donor_email"),
    ]
