"""Donors' names and e-mail addresses get sealed columns and blind indexes (filled by 0006; the clear columns go in
0007)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("funding", "0004_review_resolution")]

    operations = [
        migrations.AddField(
            model_name="donation",
            name="donor_name_encrypted",
            field=models.TextField(default=""),
        ),
        migrations.AddField(
            model_name="donation",
            name="donor_name_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="donation",
            name="donor_email_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="donation",
            name="donor_email_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="recurringdonation",
            name="donor_name_encrypted",
            field=models.TextField(default=""),
        ),
        migrations.AddField(
            model_name="recurringdonation",
            name="donor_email_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="recurringdonation",
            name="donor_email_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
    ]
