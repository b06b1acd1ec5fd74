"""Where a feed's comment sits in its thread: the post it belongs to and the comment it answers.

Atom comment feeds say it with `thr:in-reply-to` (RFC 4685): its `ref` is the id of the entry
answered, the post's own id for a comment on the post, the parent comment's id for a reply.

RSS has no such element; WordPress (5.4 and later) writes enough to find it anyway. A comment's
guid is its post's guid followed by `#comment-<id>`, and in comment feeds the text of a reply starts
with a paragraph that links to its parent (`<p>In reply to <a href="…#comment-12">Léa</a>.</p>`,
in the site's language). The parent's guid is then the post's guid followed by `#comment-12`,
which is the id that very comment has in the same feed (RSS guid and Atom id are the same string).
That paragraph is WordPress's, not the commenter's: it is taken out of the stored text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMENT_ID = re.compile(r"^(?P<post>.+?)#comment-(?P<number>\d+)$")
# The first paragraph of a reply in WordPress's comment feeds: a short sentence around one link to
# the parent comment (its permalink, on whichever comment page, ends in #comment-<id>).
IN_REPLY_TO = re.compile(
    r"""^\s*<p>[^<]{0,80}<a\s+href=["'](?P<href>[^"']*#comment-(?P<number>\d+))["'][^>]*>[^<]*</a>[^<]{0,20}</p>\s*""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Placement:
    post_id: str  # the external id of the post the comment is on ('' when unknown)
    parent_id: str  # the external id of what it answers: its parent comment, else its post
    html: str  # the comment's HTML without WordPress's "In reply to" paragraph


def is_comment(entry, external_id: str) -> bool:
    """A comment rather than a post: it answers something, or WordPress gave it a comment id."""
    return bool(entry.get("thr_in-reply-to")) or COMMENT_ID.match(external_id) is not None


def place(entry, external_id: str, html: str, *, post_id: str = "") -> Placement:
    """Where the comment `external_id` belongs; `post_id` is the post whose comment feed it came
    from, when it came from one."""
    own = COMMENT_ID.match(external_id)
    if own and not post_id:
        post_id = own.group("post")
    answered = entry.get("thr_in-reply-to") or {}
    parent_id = str(answered.get("ref") or answered.get("href") or "")
    reply_link = IN_REPLY_TO.match(html)
    if reply_link and answered and not parent_id.endswith(f"#comment-{reply_link.group('number')}"):
        reply_link = None  # a comment on the post that happens to open with a link to another one
    if reply_link:
        html = html[reply_link.end() :]
    if not parent_id and reply_link and own:
        parent_id = f"{own.group('post')}#comment-{reply_link.group('number')}"
    if answered and not post_id:
        parent = COMMENT_ID.match(parent_id)
        post_id = parent.group("post") if parent else parent_id
    return Placement(post_id=post_id, parent_id=parent_id or post_id, html=html)
