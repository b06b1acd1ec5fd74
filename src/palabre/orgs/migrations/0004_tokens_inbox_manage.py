"""Tokens keep what they could do: managing the replies library and handing threads to others was
`inbox.reply`, it is now `inbox.manage`, so a token that held `inbox.reply` gets both (each use is
still capped by its human's current role: an agency guest's token gains nothing)."""

from django.db import migrations

REPLY, MANAGE = "inbox.reply", "inbox.manage"


def give_tokens_inbox_manage(apps, schema_editor):
    ApiToken = apps.get_model("orgs", "ApiToken")
    for token in ApiToken.objects.only("pk", "scopes").iterator():
        scopes = list(token.scopes or [])
        if REPLY in scopes and MANAGE not in scopes:
            token.scopes = sorted({*scopes, MANAGE})
            token.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [("orgs", "0003_more_platforms")]

    operations = [migrations.RunPython(give_tokens_inbox_manage, migrations.RunPython.noop)]
