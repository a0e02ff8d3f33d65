/*
 * Trợ lý thủ tục hành chính Hà Nội — the embeddable chat widget.
 *
 * A portal embeds it with one tag:  <script src="https://HOST/widget/widget.js" defer></script>
 * The stylesheet and the API are taken from the script's own origin, so the widget also works when
 * the portal lives elsewhere (the API must then list the portal in ASSISTANT_CORS_ORIGINS).
 *
 * Everything the API or the user sends is put on the page as text (textContent / text nodes);
 * links are built with createElement and only for https:// addresses. No innerHTML anywhere.
 */
(function () {
  "use strict";

  if (window.__tthcWidgetLoaded) return; // a portal that includes the tag twice gets one widget
  window.__tthcWidgetLoaded = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var scriptUrl = new URL(script ? script.src : "/widget/widget.js", window.location.href);
  var API = scriptUrl.origin;
  var STYLESHEET = new URL("widget.css", scriptUrl).href;
  var SESSION_KEY = "tthc-widget-session";
  var REQUEST_TIMEOUT_MS = 30000;
  // Scores are on a scale where the best match is about 1; far below that a "similar procedure"
  // is noise (a shared word such as "khai"), not a useful suggestion.
  var MIN_CANDIDATE_SCORE = 0.5;
  var MAX_OTHER_CANDIDATES = 3;
  var EXAMPLES = [
    "Đăng ký khai sinh cần giấy tờ gì?",
    "Làm căn cước ở đâu?",
    "Xin lý lịch tư pháp online được không?",
  ];
  var MESSAGES = {
    network: "Không kết nối được tới trợ lý. Bạn kiểm tra mạng rồi thử lại nhé.",
    timeout: "Trợ lý trả lời quá lâu. Bạn thử lại sau ít phút nhé.",
    tooMany: "Bạn gửi quá nhiều câu hỏi trong thời gian ngắn, vui lòng thử lại sau ít phút.",
    invalid: "Câu hỏi chưa gửi được (nội dung không hợp lệ). Bạn thử viết ngắn gọn hơn nhé.",
    server: "Hệ thống đang gặp sự cố, vui lòng thử lại sau hoặc gọi tổng đài 1900 1009.",
    feedbackFailed: "Chưa gửi được phản hồi, bạn thử lại sau nhé.",
    thanks: "Cảm ơn bạn đã phản hồi!",
  };

  // -- small DOM helpers (text only) ------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(label, className, onClick) {
    var node = el("button", className || "tthc-w-chip", label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function safeHttpsUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  // One line of a reply: text nodes, with https:// addresses turned into links.
  function appendLine(parent, line) {
    var pattern = /https?:\/\/[^\s<>"'()]+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(line)) !== null) {
      var raw = match[0].replace(/[.,;:!?»”]+$/, ""); // sentence punctuation is not part of the address
      var href = safeHttpsUrl(raw);
      if (!href) continue;
      parent.appendChild(document.createTextNode(line.slice(last, match.index)));
      var link = el("a", "tthc-w-link", raw);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = match.index + raw.length;
    }
    parent.appendChild(document.createTextNode(line.slice(last)));
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  // The conversation lasts as long as the tab; sessionStorage may be unavailable (privacy modes).
  function sessionId() {
    try {
      var stored = window.sessionStorage.getItem(SESSION_KEY);
      if (stored && /^[A-Za-z0-9_.:-]{1,100}$/.test(stored)) return stored;
      var fresh = "w-" + randomId();
      window.sessionStorage.setItem(SESSION_KEY, fresh);
      return fresh;
    } catch (error) {
      if (!window.__tthcWidgetSession) window.__tthcWidgetSession = "w-" + randomId();
      return window.__tthcWidgetSession;
    }
  }

  // -- talking to the API ---------------------------------------------------------------------

  function errorMessage(status, body) {
    if (body && typeof body.detail === "string" && body.detail) return body.detail;
    if (status === 429) return MESSAGES.tooMany;
    if (status === 413 || status === 422) return MESSAGES.invalid;
    return MESSAGES.server;
  }

  function postJson(path, payload) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    return window
      .fetch(API + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
        credentials: "omit",
        signal: controller ? controller.signal : undefined,
      })
      .then(
        function (response) {
          return response
            .json()
            .catch(function () { return null; })
            .then(function (body) {
              if (!response.ok) throw new Error(errorMessage(response.status, body));
              return body;
            });
        },
        function (error) {
          throw new Error(error && error.name === "AbortError" ? MESSAGES.timeout : MESSAGES.network);
        }
      )
      .finally(function () {
        if (timer) window.clearTimeout(timer);
      });
  }

  // -- the widget -----------------------------------------------------------------------------

  function build() {
    var stylesheet = document.createElement("link");
    stylesheet.rel = "stylesheet";
    stylesheet.href = STYLESHEET;
    document.head.appendChild(stylesheet);

    var root = el("div", "tthc-w");
    var launcher = button("Hỏi trợ lý thủ tục", "tthc-w-launcher", function () { open(); });
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "tthc-w-panel");

    var panel = el("div", "tthc-w-panel");
    panel.id = "tthc-w-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Trợ lý thủ tục hành chính Hà Nội");

    var header = el("div", "tthc-w-header");
    var titles = el("div", "tthc-w-titles");
    titles.appendChild(el("p", "tthc-w-title", "Trợ lý thủ tục hành chính"));
    titles.appendChild(el("p", "tthc-w-subtitle", "Thông tin tham khảo từ Cổng Dịch vụ công quốc gia"));
    var closer = button("×", "tthc-w-close", function () { close(); });
    closer.setAttribute("aria-label", "Đóng trợ lý");
    header.appendChild(titles);
    header.appendChild(closer);

    var log = el("div", "tthc-w-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Hội thoại với trợ lý");
    log.tabIndex = 0; // scrollable region: reachable by keyboard

    var form = el("form", "tthc-w-form");
    form.noValidate = true;
    var label = el("label", "tthc-w-visually-hidden", "Câu hỏi của bạn");
    label.htmlFor = "tthc-w-input";
    var input = el("input", "tthc-w-input");
    input.id = "tthc-w-input";
    input.type = "text";
    input.maxLength = 2000;
    input.autocomplete = "off";
    input.placeholder = "Nhập câu hỏi về thủ tục…";
    var send = el("button", "tthc-w-send", "Gửi");
    send.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    var busy = false;
    var greeted = false;

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    // A long answer is read from its first line: show its top rather than the buttons below it.
    function scrollToStart(item) {
      log.scrollTop += item.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
    }

    function message(who, lines, extraClass) {
      var item = el("div", "tthc-w-msg tthc-w-msg-" + who + (extraClass ? " " + extraClass : ""));
      // screen readers hear who speaks; the bubbles' colours say it visually
      item.appendChild(el("span", "tthc-w-visually-hidden", who === "user" ? "Bạn: " : "Trợ lý: "));
      lines.forEach(function (line) {
        var row = el("p", "tthc-w-line");
        appendLine(row, line);
        item.appendChild(row);
      });
      log.appendChild(item);
      scrollToEnd();
      return item;
    }

    function actionGroup(title, buttons) {
      var group = el("div", "tthc-w-actions");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", title);
      group.appendChild(el("p", "tthc-w-actions-title", title));
      buttons.forEach(function (node) { group.appendChild(node); });
      return group;
    }

    function greet() {
      var item = message("bot", [
        "Xin chào! Mình là trợ lý thủ tục hành chính của Hà Nội.",
        "Bạn hỏi về hồ sơ, lệ phí, thời hạn, nơi nộp hay cách nộp trực tuyến của một thủ tục nhé.",
      ]);
      item.appendChild(
        actionGroup(
          "Câu hỏi ví dụ",
          EXAMPLES.map(function (text) {
            return button(text, "tthc-w-chip", function () { ask({ question: text }, text); });
          })
        )
      );
    }

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      root.classList.add("tthc-w-open");
      if (!greeted) {
        greeted = true;
        greet();
      }
      input.focus();
    }

    function close() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      root.classList.remove("tthc-w-open");
      launcher.focus();
    }

    function typing() {
      var item = el("div", "tthc-w-msg tthc-w-msg-bot tthc-w-typing");
      item.appendChild(el("span", "tthc-w-visually-hidden", "Trợ lý đang trả lời…"));
      for (var i = 0; i < 3; i += 1) item.appendChild(el("span", "tthc-w-dot"));
      log.appendChild(item);
      scrollToEnd();
      return item;
    }

    function setBusy(value) {
      busy = value;
      send.disabled = value;
      log.setAttribute("aria-busy", value ? "true" : "false");
    }

    // One turn: show what the user asked (or pressed), wait for the reply, render it.
    function ask(fields, shown) {
      if (busy) return;
      if (shown) message("user", [shown]);
      var payload = { question: fields.question || "", session_id: sessionId(), channel: "web" };
      if (fields.procedure_code) payload.procedure_code = fields.procedure_code;
      if (fields.aspect) payload.aspect = fields.aspect;
      setBusy(true);
      var indicator = typing();
      postJson("/v1/ask", payload)
        .then(
          function (reply) { indicator.remove(); render(reply); },
          function (error) { indicator.remove(); message("bot", [error.message], "tthc-w-error"); }
        )
        .finally(function () {
          setBusy(false);
        });
    }

    function render(reply) {
      var item = message("bot", String(reply.reply || "").split("\n"));
      item.setAttribute("data-answer-id", reply.answer_id || "");
      item.setAttribute("data-decision", reply.decision || "");
      var procedure = reply.procedure;
      if (reply.decision === "clarify" && reply.options && reply.options.length) {
        item.appendChild(
          actionGroup(
            "Chọn thủ tục",
            reply.options.map(function (option, index) {
              var text = index + 1 + ". " + option.name + " (mã " + option.code + ")";
              return button(text, "tthc-w-chip tthc-w-option", function () {
                ask({ procedure_code: option.code }, text);
              });
            })
          )
        );
      } else if (reply.decision === "answer" && procedure) {
        // The follow-up aspects come from the API (its aspect registry), not from this file.
        item.appendChild(
          actionGroup(
            "Hỏi thêm về thủ tục này",
            (reply.follow_ups || []).map(function (follow) {
              return button(follow.label, "tthc-w-chip tthc-w-aspect", function () {
                ask({ procedure_code: procedure.code, aspect: follow.aspect }, follow.label + " — " + procedure.name);
              });
            })
          )
        );
        var others = (reply.candidates || [])
          .filter(function (c) { return c.code !== procedure.code && c.score >= MIN_CANDIDATE_SCORE; })
          .slice(0, MAX_OTHER_CANDIDATES);
        if (others.length) {
          item.appendChild(
            actionGroup(
              "Thủ tục khác gần giống",
              others.map(function (c) {
                var text = c.name + " (mã " + c.code + ")";
                return button(text, "tthc-w-chip tthc-w-candidate", function () {
                  ask({ procedure_code: c.code }, text);
                });
              })
            )
          );
        }
        item.appendChild(feedback(reply.answer_id));
      }
      scrollToStart(item);
    }

    function feedback(answerId) {
      var row = el("div", "tthc-w-feedback");
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Câu trả lời có hữu ích không?");

      function submit(useful, comment) {
        var body = { answer_id: answerId, useful: useful };
        if (comment) body.comment = comment;
        Array.prototype.forEach.call(row.querySelectorAll("button, input"), function (node) {
          node.disabled = true;
        });
        postJson("/v1/feedback", body).then(
          function () {
            row.textContent = "";
            row.appendChild(el("p", "tthc-w-thanks", MESSAGES.thanks));
          },
          function (error) {
            Array.prototype.forEach.call(row.querySelectorAll("button, input"), function (node) {
              node.disabled = false;
            });
            var note = row.querySelector(".tthc-w-feedback-error") || row.appendChild(el("p", "tthc-w-feedback-error"));
            note.textContent = error.message || MESSAGES.feedbackFailed;
          }
        );
      }

      function askComment() {
        row.textContent = "";
        var id = "tthc-w-comment-" + answerId;
        var commentLabel = el("label", "tthc-w-comment-label", "Góp ý thêm (không bắt buộc):");
        commentLabel.htmlFor = id;
        var comment = el("input", "tthc-w-comment");
        comment.id = id;
        comment.type = "text";
        comment.maxLength = 500;
        comment.autocomplete = "off";
        var submitButton = button("Gửi phản hồi", "tthc-w-chip tthc-w-feedback-send", function () {
          submit(false, comment.value.trim());
        });
        comment.addEventListener("keydown", function (event) {
          if (event.key === "Enter") {
            event.preventDefault();
            submitButton.click();
          }
        });
        row.appendChild(commentLabel);
        row.appendChild(comment);
        row.appendChild(submitButton);
        comment.focus();
      }

      row.appendChild(el("span", "tthc-w-feedback-title", "Câu trả lời có hữu ích không?"));
      row.appendChild(button("Hữu ích 👍", "tthc-w-chip tthc-w-useful", function () { submit(true); }));
      row.appendChild(button("Chưa hữu ích 👎", "tthc-w-chip tthc-w-not-useful", askComment));
      return row;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = input.value.trim();
      if (!question || busy) return;
      input.value = "";
      ask({ question: question }, question);
    });

    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        close();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", build);
  } else {
    build();
  }
})();
