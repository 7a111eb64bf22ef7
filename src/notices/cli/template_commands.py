"""`notices template ...`: list, show, save, rename and delete notice templates.

A notice starts from one with `notices notice add --template NAME --starts ...`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from notices.cli.acting import acting, as_option
from notices.cli.common import UserError, echo_json, migrated_context
from notices.core.errors import InvalidField
from notices.notice import store
from notices.notice import templates_store as templates


@click.group()
def template() -> None:
    """Notice templates: a notice's fields (no times) kept under a name to start new notices from."""


@template.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """List the templates by name."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        found = [templates.template_data(item) for item in templates.list_templates(session)]
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no templates")
    for item in found:
        fields = item["fields"]
        click.echo(f"{item['id']:>4}  {item['name']:30}  {fields.get('category', ''):13} {fields.get('title', '')}")


@template.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """Show one template (NAME is its name or id)."""
    ctx = migrated_context()
    with ctx.db.session() as session:
        data = templates.template_data(templates.get_template(session, name))
    if as_json:
        echo_json(data)
        return
    for key in ("id", "name", "description", "created_by", "updated_at"):
        click.echo(f"{key + ':':14} {data[key] if data[key] not in (None, '') else '-'}")
    for key, value in data["fields"].items():
        if key == "geometry" and value:
            value = "(GeoJSON: --json)"
        elif key == "translations":
            for language, texts in (value or {}).items():
                for field, text in texts.items():
                    shown = f"({len(text)} characters; --json shows it)" if field == "body" else text
                    click.echo(f"{field + '.' + language + ':':14} {shown}")
            continue
        elif key == "body" and value:
            value = f"({len(value)} characters; --json shows it)"
        elif isinstance(value, list):
            value = ", ".join(value)
        click.echo(f"{key + ':':14} {value if value not in (None, '') else '-'}")


def _read_fields(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"--file: cannot read {path} ({error})") from None
    except json.JSONDecodeError as error:
        raise UserError(f"--file: {path} is not valid JSON ({error})") from None


@template.command("save")
@click.argument("uid", required=False)
@click.option("--name", required=True, help="The template's name, e.g. 'Road closure'.")
@click.option("--description", default="", help="What the template is for.")
@click.option(
    "--file",
    "fields_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON object of notice fields without times, instead of a notice UID.",
)
@as_option
@click.option("--json", "as_json", is_flag=True)
def save(
    uid: str | None, name: str, description: str, fields_file: Path | None, as_email: str | None, as_json: bool
) -> None:
    """Save the notice UID's fields (or --file's) as a template called --name."""
    if (uid is None) == (fields_file is None):
        raise UserError("give a notice UID or --file FILE.json, one of them")
    ctx = migrated_context()
    now = ctx.clock.now()
    fields = None
    if fields_file is not None:
        try:
            fields = templates.parse_fields(_read_fields(fields_file), settings=ctx.settings, now=now)
        except InvalidField as error:
            raise UserError(f"--file: {error}") from None
    with ctx.db.writing() as session, session.begin():
        actor = acting(session, as_email)
        if fields is None:
            assert uid is not None
            found = store.get_notice(session, uid)
            fields, source = templates.stored_fields(found), found.uid
        else:
            source = str(fields_file)
        try:
            saved = templates.save_template(
                session, name=name, description=description, fields=fields, actor=actor, now=now, source=source
            )
        except InvalidField as error:
            raise UserError(f"--{error.field}: {error.problem}") from None
        data = templates.template_data(saved)
    if as_json:
        echo_json(data)
    else:
        click.echo(f"saved template {data['id']}: {data['name']}")


@template.command("rename")
@click.argument("name")
@click.argument("new_name")
@as_option
def rename(name: str, new_name: str, as_email: str | None) -> None:
    """Rename the template NAME (or id) to NEW_NAME."""
    ctx = migrated_context()
    with ctx.db.writing() as session, session.begin():
        found = templates.get_template(session, name)
        try:
            templates.rename_template(
                session, found, name=new_name, actor=acting(session, as_email), now=ctx.clock.now()
            )
        except InvalidField as error:
            raise UserError(f"NEW_NAME: {error.problem}") from None
        click.echo(f"renamed template {found.id} to {found.name}")


@template.command("delete")
@click.argument("name")
@as_option
def delete(name: str, as_email: str | None) -> None:
    """Delete the template NAME (or id); notices started from it keep their fields."""
    ctx = migrated_context()
    with ctx.db.writing() as session, session.begin():
        found = templates.get_template(session, name)
        shown = found.name
        templates.delete_template(session, found, actor=acting(session, as_email), now=ctx.clock.now())
    click.echo(f"deleted template {shown}")
