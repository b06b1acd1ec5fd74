/* Palabre comment form, embedded in a brand's pages. Vanilla JS, no build step, no framework.

   Served by /widget/<site>/embed.js, which writes the site's configuration in place of the slot at the
   bottom. On the page:
     <div id="palabre-comments"></div>
     <script src=".../widget/<site>/embed.js" data-page="https://blog.example/post-1" async></script>
   Optional attributes: data-page (default: the canonical link, else the address without #...),
   data-lang (default: <html lang>, else the browser's language), data-target (default: palabre-comments).

   Never loses what a person typed: name, e-mail and comment are kept in localStorage as they are typed
   and restored on reload; they are cleared only once the comment is accepted (published or awaiting
   moderation). On any error (a field, the network, the server) the text stays and a message says why,
   next to the field, read out by screen readers. No CAPTCHA: the server judges (see widget.py). */
(function (config) {
  "use strict";
  if (!config || !window.fetch) return;

  var script =
    document.currentScript ||
    document.querySelector('script[src*="/widget/' + config.site + '/embed.js"]');
  function attr(name) {
    return script ? script.getAttribute(name) : null;
  }

  var lang = pickLanguage(attr("data-lang") || document.documentElement.lang || navigator.language);
  var t = config.strings[lang] || config.strings[config.defaultLang] || {};
  var page = attr("data-page") || canonical() || location.href.split("#")[0];
  var targetId = attr("data-target") || "palabre-comments";
  var draftKey = "palabre:draft:" + config.site + ":" + page;
  var authorKey = "palabre:author:" + config.site;
  var prefix = "palabre-" + config.site;
  var formToken = "";
  var ui = null;

  function pickLanguage(value) {
    value = String(value || "").toLowerCase();
    for (var code in config.strings) {
      if (value === code || value.indexOf(code + "-") === 0 || value.indexOf(code + "_") === 0) return code;
    }
    return config.defaultLang;
  }

  function canonical() {
    var link = document.querySelector('link[rel="canonical"]');
    return link && link.href ? link.href.split("#")[0] : "";
  }

  function format(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (_match, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }

  // localStorage may be refused (privacy settings, sandboxed frames): keep the draft in memory then.
  var memory = {};
  var store = {
    get: function (key) {
      try {
        return window.localStorage.getItem(key);
      } catch (error) {
        return key in memory ? memory[key] : null;
      }
    },
    set: function (key, value) {
      memory[key] = value;
      try {
        window.localStorage.setItem(key, value);
      } catch (error) {
        /* kept in memory */
      }
    },
    remove: function (key) {
      delete memory[key];
      try {
        window.localStorage.removeItem(key);
      } catch (error) {
        /* nothing stored */
      }
    },
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function loadStylesheet() {
    if (!config.css || document.querySelector("link[data-palabre-css]")) return;
    var link = el("link", { rel: "stylesheet", href: config.css, "data-palabre-css": true });
    (document.head || document.documentElement).appendChild(link);
  }

  // --- the form ------------------------------------------------------------------------------------

  function field(name, label, input, help) {
    input.id = prefix + "-" + name;
    input.name = name;
    var error = el("p", { class: "palabre-error", id: input.id + "-error", "aria-live": "polite" });
    var helpNode = help ? el("span", { class: "palabre-help", id: input.id + "-help", text: help }) : null;
    input.setAttribute("aria-describedby", (helpNode ? helpNode.id + " " : "") + error.id);
    var wrap = el("div", { class: "palabre-field" }, [
      el("label", { for: input.id, text: label }),
      helpNode,
      input,
    ]);
    return { wrap: wrap, input: input, error: error };
  }

  function build(root) {
    loadStylesheet();
    root.classList.add("palabre");
    root.setAttribute("lang", lang);
    var heading = el("h2", { id: prefix + "-heading", text: t.heading });
    var status = el("p", { class: "palabre-message", role: "status", "aria-live": "polite" });
    var list = el("ol", { class: "palabre-list", "aria-labelledby": heading.id });
    var empty = el("p", { class: "palabre-empty", text: t.empty, hidden: true });

    var fields = {
      name: field("name", t.name, el("input", { type: "text", autocomplete: "name", "aria-required": "true" })),
      email: field(
        "email",
        t.email,
        el("input", { type: "email", autocomplete: "email", "aria-required": "true" }),
        t.email_help
      ),
      text: field("text", t.text, el("textarea", { rows: "6", "aria-required": "true" })),
    };
    var counter = el("span", { class: "palabre-help palabre-counter", id: prefix + "-counter" });
    fields.text.input.setAttribute("aria-describedby", counter.id + " " + fields.text.error.id);
    fields.text.wrap.appendChild(counter);
    Object.keys(fields).forEach(function (name) {
      fields[name].wrap.appendChild(fields[name].error);
    });

    // The honeypot: out of sight and out of the tab order; people never fill it, robots do.
    var honeypot = el("input", { type: "text", name: "website", id: prefix + "-website", tabindex: "-1", autocomplete: "off" });
    var trap = el("div", { class: "palabre-hp", "aria-hidden": "true" }, [
      el("label", { for: honeypot.id, text: t.honeypot }),
      honeypot,
    ]);

    var button = el("button", { type: "submit", text: t.send });
    var result = el("div", { class: "palabre-message", id: prefix + "-result", role: "status", "aria-live": "polite" });
    var form = el("form", { class: "palabre-form", novalidate: true, "aria-labelledby": prefix + "-form-heading" }, [
      el("h3", { id: prefix + "-form-heading", text: t.form_heading }),
      fields.name.wrap,
      fields.email.wrap,
      fields.text.wrap,
      trap,
      result,
      button,
    ]);

    root.textContent = "";
    [heading, status, list, empty, form].forEach(function (node) {
      root.appendChild(node);
    });
    ui = {
      root: root,
      heading: heading,
      status: status,
      list: list,
      empty: empty,
      fields: fields,
      counter: counter,
      honeypot: honeypot,
      button: button,
      result: result,
      form: form,
      count: 0,
    };

    restoreDraft();
    updateCounter();
    Object.keys(fields).forEach(function (name) {
      fields[name].input.addEventListener("input", function () {
        saveDraft();
        if (name === "text") updateCounter();
      });
    });
    form.addEventListener("submit", submit);
  }

  function updateCounter() {
    var count = ui.fields.text.input.value.length;
    var over = count > config.maxText;
    ui.counter.textContent = format(over ? t.too_long : t.counter, { count: count, max: config.maxText });
    ui.counter.classList.toggle("palabre-over", over);
  }

  // --- drafts --------------------------------------------------------------------------------------

  function saveDraft() {
    var draft = {
      name: ui.fields.name.input.value,
      email: ui.fields.email.input.value,
      text: ui.fields.text.input.value,
      saved: Date.now(),
    };
    if (draft.name || draft.email || draft.text) store.set(draftKey, JSON.stringify(draft));
    else store.remove(draftKey);
  }

  function restoreDraft() {
    var draft = null;
    try {
      draft = JSON.parse(store.get(draftKey) || "null");
    } catch (error) {
      draft = null;
    }
    if (!draft) return;
    ["name", "email", "text"].forEach(function (name) {
      if (typeof draft[name] === "string") ui.fields[name].input.value = draft[name];
    });
    if (draft.text) say(ui.status, t.draft_restored);
  }

  // --- the list ------------------------------------------------------------------------------------

  function when(iso) {
    try {
      return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
    } catch (error) {
      return iso;
    }
  }

  function commentNode(comment) {
    var pending = comment.status !== "published";
    return el("li", { class: "palabre-comment" + (pending ? " palabre-pending" : ""), "data-id": comment.id }, [
      el("p", { class: "palabre-meta" }, [
        el("strong", { class: "palabre-author", text: comment.name }),
        el("time", { datetime: comment.created_at, text: when(comment.created_at) }),
        pending ? el("span", { class: "palabre-badge", text: t.pending }) : null,
      ]),
      el("div", { class: "palabre-text", text: comment.text }),
      comment.replies && comment.replies.length
        ? el("ul", { class: "palabre-replies" }, comment.replies.map(function (reply) {
            return el("li", { class: "palabre-comment palabre-brand-reply" }, [
              el("p", { class: "palabre-meta" }, [
                el("strong", { class: "palabre-author", text: reply.name }),
                el("time", { datetime: reply.created_at, text: when(reply.created_at) }),
              ]),
              el("div", { class: "palabre-text", text: reply.text }),
            ]);
          }))
        : null,
    ]);
  }

  function showComments(comments, pending) {
    ui.list.textContent = "";
    comments.concat(pending).forEach(function (comment) {
      ui.list.appendChild(commentNode(comment));
    });
    ui.count = comments.length;
    refreshCount();
  }

  function addComment(comment) {
    if (!comment) return;
    ui.list.appendChild(commentNode(comment));
    if (comment.status === "published") ui.count += 1;
    refreshCount();
  }

  function refreshCount() {
    ui.heading.textContent = t.heading + " (" + ui.count + ")";
    ui.empty.hidden = ui.list.children.length > 0;
  }

  // --- talking to Palabre -------------------------------------------------------------------------

  function headers(extra) {
    var found = extra || {};
    var token = store.get(authorKey);
    if (token) found[config.authorHeader] = token;
    return found;
  }

  function call(url, options) {
    // A server that never answers must not keep the button disabled for ever.
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 20000) : null;
    options.signal = controller ? controller.signal : undefined;
    options.credentials = "omit";
    options.mode = "cors";
    return fetch(url, options).then(
      function (response) {
        clearTimeout(timer);
        return response.json().then(
          function (data) { return { status: response.status, data: data }; },
          function () { return { status: response.status, data: null }; }
        );
      },
      function (error) {
        clearTimeout(timer);
        throw error;
      }
    );
  }

  function load() {
    var url = config.comments + "?page=" + encodeURIComponent(page) + "&lang=" + encodeURIComponent(lang);
    return call(url, { method: "GET", headers: headers() }).then(
      function (answer) {
        if (answer.status !== 200 || !answer.data) {
          say(ui.status, (answer.data && answer.data.message) || t.load_failed, "error");
          return;
        }
        formToken = answer.data.form_token || formToken;
        showComments(answer.data.comments || [], answer.data.pending || []);
      },
      function () {
        say(ui.status, t.load_failed, "error");
      }
    );
  }

  function say(node, message, kind, reasons) {
    node.textContent = "";
    node.className = "palabre-message" + (kind ? " palabre-" + kind : "");
    if (!message) return;
    node.appendChild(el("span", { text: message }));
    if (reasons && reasons.length) {
      node.appendChild(
        el(
          "ul",
          { class: "palabre-reasons" },
          reasons.map(function (reason) {
            return el("li", { text: reason });
          })
        )
      );
    }
  }

  function clearErrors() {
    Object.keys(ui.fields).forEach(function (name) {
      ui.fields[name].error.textContent = "";
      ui.fields[name].input.removeAttribute("aria-invalid");
      ui.fields[name].wrap.classList.remove("palabre-invalid");
    });
    say(ui.result, "");
  }

  function showErrors(errors) {
    var first = null;
    var others = [];
    Object.keys(errors).forEach(function (name) {
      var messages = [].concat(errors[name]).join(" ");
      var target = ui.fields[name];
      if (target) {
        target.error.textContent = messages;
        target.input.setAttribute("aria-invalid", "true");
        target.wrap.classList.add("palabre-invalid");
        first = first || target.input;
      } else {
        others.push(messages);
      }
    });
    say(ui.result, t.fix_errors, "error", others);
    if (first) first.focus();
  }

  var sending = false;

  function submit(event) {
    event.preventDefault();
    if (sending) return;
    sending = true;
    clearErrors();
    saveDraft();
    ui.button.disabled = true;
    ui.button.textContent = t.sending;
    ui.form.setAttribute("aria-busy", "true");
    var body = {
      name: ui.fields.name.input.value,
      email: ui.fields.email.input.value,
      text: ui.fields.text.input.value,
      website: ui.honeypot.value,
      page: page,
      form_token: formToken,
    };
    var url = config.comments + "?lang=" + encodeURIComponent(lang);
    call(url, { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) })
      .then(answered, function () {
        say(ui.result, t.network_error, "error");
      })
      .then(done, done);
  }

  function answered(answer) {
    var data = answer.data;
    if (data && data.form_token) formToken = data.form_token;
    if (answer.status === 201 && data) {
      if (data.author_token) store.set(authorKey, data.author_token);
      if (data.status === "rejected") {
        // Refused: the text stays, to be changed and sent again.
        say(ui.result, data.message, "rejected", data.reasons);
        ui.fields.text.input.focus();
        return;
      }
      addComment(data.comment);
      store.remove(draftKey);
      ui.fields.text.input.value = "";
      updateCounter();
      say(ui.result, data.message, data.status);
      say(ui.status, "");
      return;
    }
    if (answer.status >= 400 && answer.status < 500 && data && data.errors) {
      showErrors(data.errors);
      return;
    }
    say(ui.result, t.server_error, "error");
  }

  function done() {
    sending = false;
    ui.button.disabled = false;
    ui.button.textContent = t.send;
    ui.form.removeAttribute("aria-busy");
  }

  // --- start ---------------------------------------------------------------------------------------

  function start() {
    var root = document.getElementById(targetId);
    if (!root) {
      root = el("div", { id: targetId });
      if (script && script.parentNode) script.parentNode.insertBefore(root, script.nextSibling);
      else document.body.appendChild(root);
    }
    build(root);
    load();
  }

  if (document.getElementById(targetId) || document.readyState !== "loading") start();
  else document.addEventListener("DOMContentLoaded", start);
})(/*palabre-config*/null);
