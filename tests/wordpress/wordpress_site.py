"""A real WordPress on loopback: Debian's `wordpress` package served by `php -S`, on a private
MariaDB server, everything under one temporary folder and run as the current user.

Debian's WordPress reads its configuration from /etc/wordpress/config-<host>.php (root's files).
Nothing there is touched: the site's folder holds a `wp-config.php` of its own next to links to
every other entry of /usr/share/wordpress, and a small prelude (PHP's `auto_prepend_file`) defines
`ABSPATH` as that folder before WordPress runs, so that `wp-load.php`, wherever PHP resolved it,
loads this site's configuration. `wp-content` lives in the folder too (plugins, uploads,
must-use plugins).

The helpers act as a visitor would where that is what a test is about (comments are posted through
`wp-comments-post.php`), and through WordPress's own PHP functions for the set-up (posts, options,
plugins), run by `php` on the command line with the site loaded.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

WORDPRESS_DIR = Path("/usr/share/wordpress")
PHP = shutil.which("php")
MARIADBD = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/libexec")
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db")
MARIADB = shutil.which("mariadb")
ADMIN = "admin"
ADMIN_PASSWORD = "Wp-admin-2024!"
ADMIN_EMAIL = "admin@maison-dupont.test"


def missing() -> str:
    """Why a real WordPress cannot run here ('' when it can)."""
    needs = []
    if not (WORDPRESS_DIR / "wp-settings.php").exists():
        needs.append("wordpress")
    if PHP is None:
        needs.append("php-cli")
    else:
        modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, check=False).stdout.split()
        if "mysqli" not in modules:
            needs.append("php-mysql")
    if not (MARIADBD and MARIADB_INSTALL_DB and MARIADB):
        needs.append("mariadb-server")
    if not needs:
        return ""
    return (
        f"Debian's {', '.join(needs)} not installed (scripts/test.sh installs them): "
        "no real WordPress to test against"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen | None, *, group: bool = False) -> None:
    """Stops a server (and, with `group`, the workers it forked: it leads its own session)."""
    if process is None:
        return
    if group:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    elif process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(timeout=10)


@dataclass
class MariaDB:
    """A private MariaDB server: its own data folder, a socket, no TCP port, no system service."""

    root: Path
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    def start(self) -> MariaDB:
        data = self.root / "data"
        user = getpass.getuser()
        installed = subprocess.run(
            [
                MARIADB_INSTALL_DB,
                "--no-defaults",
                f"--datadir={data}",
                f"--user={user}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if installed.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{installed.stdout}\n{installed.stderr}")
        self.process = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.socket}",
                f"--pid-file={self.root / 'mysqld.pid'}",
                f"--log-error={self.root / 'mysqld.log'}",
                f"--user={user}",
                "--skip-networking",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=0",
                "--character-set-server=utf8mb4",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd stopped:\n{self.log()}")
            if self.socket.exists() and self.sql("SELECT 1").returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not answer within 60 s:\n{self.log()}")
            time.sleep(0.2)

    def sql(self, statement: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [MARIADB, "--no-defaults", f"--socket={self.socket}", "--user=root", "--batch", "-e", statement],
            capture_output=True,
            text=True,
            check=False,
        )

    def log(self) -> str:
        path = self.root / "mysqld.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        _stop(self.process)


PRELUDE = """<?php
// Loaded before every script (auto_prepend_file): WordPress's files load this site's wp-config.php.
if (!defined('ABSPATH')) {
    define('ABSPATH', %(site)s . '/');
}
"""

ROUTER = """<?php
// php -S router: real files are served as they are; every other path is a pretty permalink
// (/feed/, /2024/05/a-post/feed/, /comments/feed/...) and goes to index.php as Apache's
// rewrite rules would send it. (PHP's built-in server prepends nothing to its router.)
require_once __DIR__ . '/prelude.php';
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
$file = ABSPATH . ltrim($path, '/');
if ($path !== '/' && (is_file($file) || (is_dir($file) && is_file(rtrim($file, '/') . '/index.php')))) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = ABSPATH . 'index.php';
require ABSPATH . 'index.php';
"""

WP_CONFIG = """<?php
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', %(db_host)s);
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
%(salts)s
$table_prefix = 'wp_';
define('WP_CONTENT_DIR', %(content)s);
define('WP_HOME', %(url)s);
define('WP_SITEURL', %(url)s);
// No cron requests to itself, no updates, no calls out but to loopback (the sandbox has no network).
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
define('WP_DEBUG', false);
require_once ABSPATH . 'wp-settings.php';
"""

# Every test comment comes from 127.0.0.1 within seconds: WordPress's flood check (one comment per
# 15 seconds per address) would refuse most of them. Nothing else is changed.
TEST_PLUGIN = """<?php
/* Plugin Name: Palabre tests: no comment flood check on loopback */
add_filter('comment_flood_filter', '__return_false', 99);
"""

LOADER = """
$_SERVER['HTTP_HOST'] = %(host)s;
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
if (!empty(getenv('WP_INSTALLING'))) { define('WP_INSTALLING', true); }
require ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$args = json_decode(getenv('PALABRE_WP_ARGS'), true);
"""


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class WordPressError(RuntimeError):
    pass


@dataclass
class Comment:
    id: int
    status: str
    location: str = ""


@dataclass
class WordPressSite:
    root: Path
    database: MariaDB
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def content(self) -> Path:
        return self.root / "wp-content"

    @property
    def prelude(self) -> Path:
        return self.root / "php" / "prelude.php"

    # --- set-up ---------------------------------------------------------------------------------
    def start(self, title: str = "Le blog de Maison Dupont") -> WordPressSite:
        created = self.database.sql("CREATE DATABASE wordpress CHARACTER SET utf8mb4")
        if created.returncode != 0:
            raise WordPressError(f"CREATE DATABASE failed: {created.stderr}")
        self._write_files()
        env = dict(os.environ, PHP_CLI_SERVER_WORKERS="4")
        log = open(self.root / "php-server.log", "wb")  # noqa: SIM115 (kept open for the server's life)
        self.process = subprocess.Popen(
            [
                PHP,
                "-d",
                f"auto_prepend_file={self.prelude}",
                "-d",
                "display_errors=stderr",
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(self.site),
                str(self.root / "php" / "router.php"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.site,
            start_new_session=True,
        )
        log.close()
        self._install(title)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/wp-login.php", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise WordPressError(f"php -S did not serve WordPress:\n{self.server_log()}")
            time.sleep(0.2)

    def _write_files(self) -> None:
        self.site.mkdir(parents=True)
        for entry in WORDPRESS_DIR.iterdir():
            if entry.name not in {"wp-config.php", "wp-content", ".htaccess"}:
                (self.site / entry.name).symlink_to(entry)
        for folder in ("plugins", "themes", "uploads", "mu-plugins", "languages"):
            (self.content / folder).mkdir(parents=True, exist_ok=True)
        for plugin in (WORDPRESS_DIR / "wp-content" / "plugins").iterdir():
            if plugin.is_dir():
                (self.content / "plugins" / plugin.name).symlink_to(plugin)
        (self.content / "mu-plugins" / "palabre-tests.php").write_text(TEST_PLUGIN)
        salts = "\n".join(
            f"define('{name}', '{secrets.token_hex(32)}');"
            for name in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        (self.site / "wp-config.php").write_text(
            WP_CONFIG
            % {
                "db_host": _php_string(f"localhost:{self.database.socket}"),
                "salts": salts,
                "content": _php_string(str(self.content)),
                "url": _php_string(self.url),
            }
        )
        (self.root / "php").mkdir()
        self.prelude.write_text(PRELUDE % {"site": _php_string(str(self.site))})
        (self.root / "php" / "router.php").write_text(ROUTER)

    def _install(self, title: str) -> None:
        self.php(
            """
            $result = wp_install($args['title'], $args['user'], $args['email'], true, '', $args['password']);
            update_option('timezone_string', 'Europe/Paris');
            // The site asks nothing of a commenter but a name and an e-mail address, and publishes
            // at once: the tests decide when moderation (or Akismet) is on.
            update_option('comment_moderation', 0);
            update_option('comment_previously_approved', 0);
            update_option('comments_notify', 0);
            update_option('moderation_notify', 0);
            update_option('thread_comments', 1);
            global $wp_rewrite;
            $wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');
            flush_rewrite_rules();
            echo json_encode(['user_id' => $result['user_id']]);
            """,
            {"title": title, "user": ADMIN, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            installing=True,
        )

    def stop(self) -> None:
        _stop(self.process, group=True)

    def server_log(self) -> str:
        path = self.root / "php-server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # --- PHP with the site loaded ---------------------------------------------------------------
    def php(self, code: str, args: dict | None = None, *, installing: bool = False):
        """Runs `code` with WordPress loaded (`$args` holds `args`); returns what it echoed, decoded
        from JSON when it is JSON."""
        script = "<?php\n" + LOADER % {"host": _php_string(f"127.0.0.1:{self.port}")} + code
        env = dict(
            os.environ, PALABRE_WP_ARGS=json.dumps(args or {}), WP_INSTALLING="1" if installing else ""
        )
        done = subprocess.run(
            [PHP, "-d", f"auto_prepend_file={self.prelude}", "-d", "display_errors=stderr"],
            input=script,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.site,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise WordPressError(f"php failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        out = done.stdout.strip()
        try:
            return json.loads(out) if out else None
        except ValueError:
            return out

    def create_post(self, title: str, content: str, *, date: str = "", author: str = ADMIN) -> dict:
        """Publishes a post as the editor does: a draft first, then published, so that its guid is
        `?p=<id>` as on any real site (not its permalink). Returns its id, guid, link and comment
        feed address. `date`: local time, 'YYYY-MM-DD HH:MM:SS' (the site's zone is Europe/Paris)."""
        return self.php(
            """
            $user = get_user_by('login', $args['author']);
            $post = ['post_title' => $args['title'], 'post_content' => $args['content'],
                     'post_status' => 'draft', 'post_author' => $user->ID, 'comment_status' => 'open'];
            $id = wp_insert_post(wp_slash($post), true);
            if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
            $publish = ['ID' => $id, 'post_status' => 'publish'];
            if ($args['date']) { $publish['post_date'] = $args['date']; $publish['edit_date'] = true; }
            $done = wp_update_post($publish, true);
            if (is_wp_error($done)) { fwrite(STDERR, $done->get_error_message()); exit(1); }
            echo json_encode(['id' => $id, 'guid' => get_the_guid($id), 'link' => get_permalink($id),
                              'comment_feed' => get_post_comments_feed_link($id),
                              'atom_comment_feed' => get_post_comments_feed_link($id, 'atom')]);
            """,
            {"title": title, "content": content, "date": date, "author": author},
        )

    def set_comment_date(self, comment_id: int, local: str) -> None:
        """Moves a comment in time ('YYYY-MM-DD HH:MM:SS', the site's zone), as an editor can."""
        self.php(
            """
            $gmt = get_gmt_from_date($args['local']);
            wp_update_comment(['comment_ID' => $args['id'], 'comment_date' => $args['local'],
                               'comment_date_gmt' => $gmt]);
            """,
            {"id": comment_id, "local": local},
        )

    def create_user(self, login: str, display_name: str, role: str = "author") -> int:
        return self.php(
            """
            $id = wp_insert_user(['user_login' => $args['login'], 'display_name' => $args['name'],
                                  'user_pass' => wp_generate_password(), 'role' => $args['role'],
                                  'user_email' => $args['login'] . '@maison-dupont.test']);
            if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(1); }
            echo json_encode($id);
            """,
            {"login": login, "name": display_name, "role": role},
        )

    def post_comment(
        self,
        post_id: int,
        text: str,
        *,
        author: str,
        email: str = "",
        url: str = "",
        parent: int = 0,
        headers: dict[str, str] | None = None,
    ) -> Comment:
        """Posts a comment as a visitor, through the site's own form handler (wp-comments-post.php);
        `parent` makes it a reply. Raises WordPressError with WordPress's message when refused."""
        response = httpx.post(
            f"{self.url}/wp-comments-post.php",
            data={
                "comment_post_ID": str(post_id),
                "author": author,
                "email": email or f"{re.sub(r'[^a-z0-9]+', '.', author.lower()).strip('.')}@example.org",
                "url": url,
                "comment": text,
                "comment_parent": str(parent),
                "submit": "Post Comment",
            },
            headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", **(headers or {})},
            timeout=60,
        )
        location = response.headers.get("Location", "")
        found = re.search(r"#comment-(\d+)$", location)
        if response.status_code != 302 or not found:
            # wp_die() pages hold the message in <div class="wp-die-message">.
            found = re.search(r'class="wp-die-message">(.*?)</div>', response.text, re.S)
            message = re.sub(r"<[^>]+>", " ", found.group(1) if found else response.text)
            raise WordPressError(
                f"comment refused ({response.status_code}): {' '.join(message.split())[:500]}"
            )
        comment_id = int(found.group(1))
        return Comment(id=comment_id, status=self.comment_status(comment_id), location=location)

    def comment_status(self, comment_id: int) -> str:
        """'approved', 'unapproved', 'spam' or 'trash' (wp_get_comment_status)."""
        return self.php("echo json_encode(wp_get_comment_status($args['id']));", {"id": comment_id})

    def comment(self, comment_id: int) -> dict:
        """The comment's row as WordPress holds it, with its meta."""
        return self.php(
            """
            $comment = get_comment($args['id'], ARRAY_A);
            $comment['meta'] = get_comment_meta($args['id']);
            echo json_encode($comment);
            """,
            {"id": comment_id},
        )

    def set_option(self, name: str, value) -> None:
        self.php("update_option($args['name'], $args['value']);", {"name": name, "value": value})

    def get_option(self, name: str):
        return self.php("echo json_encode(get_option($args['name']));", {"name": name})

    def add_plugin(self, source: Path) -> str:
        """Puts a plugin (a file or a folder) in the site's plugins folder; returns its name."""
        target = self.content / "plugins" / source.name
        if not target.exists():
            target.symlink_to(source.resolve())
        return source.name

    def activate_plugin(self, plugin: str) -> None:
        """Activates a plugin by its file relative to the plugins folder ('akismet/akismet.php')."""
        self.php(
            """
            $result = activate_plugin($args['plugin']);
            if (is_wp_error($result)) { fwrite(STDERR, $result->get_error_message()); exit(1); }
            """,
            {"plugin": plugin},
        )

    def deactivate_plugin(self, plugin: str) -> None:
        self.php("deactivate_plugins($args['plugin']);", {"plugin": plugin})

    def login(self, client: httpx.Client) -> httpx.Client:
        """Logs `client` in as the administrator (for wp-admin pages)."""
        client.get(f"{self.url}/wp-login.php")  # WordPress's test cookie
        response = client.post(
            f"{self.url}/wp-login.php",
            data={
                "log": ADMIN,
                "pwd": ADMIN_PASSWORD,
                "rememberme": "forever",
                "wp-submit": "Log In",
                "testcookie": "1",
                "redirect_to": f"{self.url}/wp-admin/",
            },
        )
        if response.status_code != 302:
            raise WordPressError(f"login refused ({response.status_code})")
        return client


def start_wordpress(root: Path) -> WordPressSite:
    database = MariaDB(root / "mariadb")
    database.root.mkdir(parents=True)
    database.start()
    site = WordPressSite(root, database)
    try:
        return site.start()
    except Exception:
        site.stop()
        database.stop()
        raise
