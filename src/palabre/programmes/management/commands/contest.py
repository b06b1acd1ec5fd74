"""`palabre contest verify FILE`: check a published draw on any machine, without Palabre's database.

`palabre contest record --organisation SLUG ID`: print the published record of a contest (what its
public page shows) as JSON, for the brand to publish or archive."""

from __future__ import annotations

import json
import sys

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Print a contest's published record, or verify a published draw."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["verify", "record"])
        parser.add_argument(
            "target",
            help="verify: the published record (a JSON file, - for stdin); record: the contest's number",
        )
        add_organisation_option(parser, "the organisation (short name) of the contest (record only)")

    def run(self, args) -> None:
        if args.action == "verify":
            sys.exit(verify_file(args.target))
        setup_django()
        from palabre.orgs.models import Organisation
        from palabre.programmes.models import Contest
        from palabre.programmes.services import published_record

        organisation = Organisation.objects.filter(slug=args.organisation).first()
        if organisation is None:
            sys.exit(f"palabre contest record: no organisation with the short name {args.organisation!r}.")
        contest = Contest.objects.for_org(organisation).filter(pk=_number(args.target)).first()
        if contest is None:
            sys.exit(f"palabre contest record: no contest number {args.target} in {organisation.slug}.")
        json.dump(published_record(contest), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")


def _number(text: str) -> int:
    if not text.isdigit():
        sys.exit(f"palabre contest record: {text!r} is not a contest number.")
    return int(text)


def verify_file(path: str) -> int:
    """Print each finding; exit status 0 when the draw holds, 1 when it does not, 2 on bad input."""
    from palabre.programmes.draw import PROCEDURE, verify

    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as source:
                text = source.read()
        published = json.loads(text)
    except (OSError, ValueError) as error:
        print(f"palabre contest verify: cannot read {path}: {error}", file=sys.stderr)
        return 2
    missing = [
        key
        for key in ("commitment", "entries_digest", "entries", "seed", "winners")
        if not published.get(key)
    ]
    if not isinstance(published, dict) or missing:
        print(
            f"palabre contest verify: {path} is not a drawn contest's record (missing: {', '.join(missing)}).",
            file=sys.stderr,
        )
        return 2
    if published.get("procedure", PROCEDURE) != PROCEDURE:
        print(f"palabre contest verify: unknown procedure {published['procedure']!r}.", file=sys.stderr)
        return 2
    result = verify(
        commitment_published=str(published["commitment"]),
        digest_published=str(published["entries_digest"]),
        seed=str(published["seed"]),
        entries=[str(e) for e in published["entries"]],
        winners_announced=[str(w) for w in published["winners"]],
    )
    for finding in result.findings:
        print(finding)
    print("The draw holds." if result.ok else "The draw does NOT hold.")
    return 0 if result.ok else 1
