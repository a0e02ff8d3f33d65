/*
 * Bảng tra cứu cho tổng đài viên 1900 1009: search as you type, open a procedure's card, copy the
 * short answer to read out or paste. All data goes on the page through textContent.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var TOP_K = 10;
  var ONLINE_LEVELS = {
    toan_trinh: "Trực tuyến toàn trình",
    online: "Có thể nộp trực tuyến (nguồn không nói rõ có toàn trình hay không)",
    offline: "Chưa có hình thức nộp trực tuyến trong dữ liệu của Cổng",
  };

  var input = document.getElementById("search-input");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  var card = document.getElementById("card");
  var copyButton = document.getElementById("copy-button");
  var copyStatus = document.getElementById("copy-status");

  var results = [];
  var active = -1;
  var timer = null;
  var searchController = null;
  var cardController = null;
  var shortAnswer = "";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
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

  function getJson(path, controller) {
    return fetch(path, { headers: { Accept: "application/json" }, signal: controller.signal }).then(function (response) {
      return response
        .json()
        .catch(function () { return null; })
        .then(function (body) {
          if (response.ok) return body;
          var detail = body && typeof body.detail === "string" ? body.detail : "";
          if (response.status === 401) detail = "Phiên đăng nhập đã hết hạn: mở lại trang với mã truy cập.";
          throw new Error(detail || "Máy chủ trả lỗi " + response.status + ", thử lại sau.");
        });
    });
  }

  // -- search ---------------------------------------------------------------------------------

  function setActive(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && list.children[index]) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function showResults(found, decision) {
    results = found;
    list.textContent = "";
    found.forEach(function (result, index) {
      var item = el("li", "result");
      item.id = "result-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.setAttribute("data-code", result.code);
      item.appendChild(el("span", "result-code", result.code));
      item.appendChild(el("span", "result-name", result.name));
      // keep the focus in the search box: the agent goes on typing after a click
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });
      item.addEventListener("click", function () { choose(index); });
      list.appendChild(item);
    });
    input.setAttribute("aria-expanded", found.length ? "true" : "false");
    setActive(found.length ? 0 : -1);
    if (!found.length) {
      status.textContent = "Không tìm thấy thủ tục phù hợp.";
    } else if (decision === "abstain") {
      status.textContent = found.length + " kết quả — độ khớp thấp, hỏi lại người gọi cho rõ.";
    } else {
      status.textContent = found.length + " kết quả.";
    }
  }

  // openFirst: Enter was pressed before the debounced search ran; open its best result when it comes.
  function search(query, openFirst) {
    timer = null;
    if (searchController) searchController.abort(); // a stale answer must not replace a newer one
    searchController = new AbortController();
    var controller = searchController;
    status.textContent = "Đang tìm…";
    getJson("/v1/search?q=" + encodeURIComponent(query) + "&top_k=" + TOP_K, controller).then(
      function (body) {
        if (controller.signal.aborted) return;
        showResults(body.results || [], body.decision);
        if (openFirst && results.length) choose(0);
      },
      function (error) {
        if (error && error.name === "AbortError") return;
        showResults([], null);
        status.textContent = error.message || "Không tìm được, thử lại sau.";
      }
    );
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = null;
    var query = input.value.trim();
    if (!query) {
      if (searchController) searchController.abort();
      showResults([], null);
      status.textContent = "";
      return;
    }
    timer = window.setTimeout(function () { search(query); }, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && results.length) {
      event.preventDefault();
      setActive((active + 1) % results.length);
    } else if (event.key === "ArrowUp" && results.length) {
      event.preventDefault();
      setActive((active - 1 + results.length) % results.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (timer !== null) {
        // the list on screen belongs to older text: search what is typed now and open its best match
        window.clearTimeout(timer);
        if (input.value.trim()) search(input.value.trim(), true);
      } else if (active >= 0) {
        choose(active);
      }
    } else if (event.key === "Escape") {
      setActive(-1);
    }
  });

  // "/" anywhere outside a text field goes back to the search box, as in most search tools.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });

  // -- the card -------------------------------------------------------------------------------

  function choose(index) {
    var result = results[index];
    if (!result) return;
    setActive(index);
    if (cardController) cardController.abort();
    cardController = new AbortController();
    var controller = cardController;
    status.textContent = "Đang mở thủ tục " + result.code + "…";
    getJson("/v1/procedures/" + encodeURIComponent(result.code), controller).then(
      function (procedure) {
        if (controller.signal.aborted) return;
        renderCard(procedure);
        status.textContent = "Đã mở thủ tục " + procedure.code + ".";
        document.getElementById("card-name").focus();
      },
      function (error) {
        if (error && error.name === "AbortError") return;
        status.textContent = error.message || "Không mở được thủ tục, thử lại sau.";
      }
    );
  }

  function renderCard(procedure) {
    document.getElementById("card-code").textContent = procedure.code;
    document.getElementById("card-name").textContent = procedure.name;
    document.getElementById("card-levels").textContent = (procedure.levels || []).join(", ") || "Không ghi";
    document.getElementById("card-field").textContent = procedure.field || "Không ghi";
    var level = ONLINE_LEVELS[procedure.online_level] || procedure.online_level;
    document.getElementById("card-online").textContent =
      level + (procedure.online_level_source ? " (theo " + procedure.online_level_source + ")" : "");

    shortAnswer = procedure.short_answer || "";
    document.getElementById("card-short").textContent = shortAnswer;
    copyStatus.textContent = "";

    var sections = document.getElementById("card-sections");
    sections.textContent = "";
    (procedure.sections || []).forEach(function (section) {
      var block = el("section", "section section-" + section.aspect);
      block.appendChild(el("h3", null, section.title));
      var lines = section.lines && section.lines.length ? section.lines : ["Nguồn không ghi."];
      var items = el("ul");
      lines.forEach(function (line) {
        items.appendChild(el("li", null, String(line).replace(/^•\s*/, "")));
      });
      block.appendChild(items);
      sections.appendChild(block);
    });

    var link = document.getElementById("card-link");
    var href = safeHttpsUrl(procedure.url);
    if (href) {
      link.href = href;
      link.hidden = false;
    } else {
      link.removeAttribute("href");
      link.hidden = true;
    }

    var citation = procedure.citation || {};
    var parts = ["Nguồn: " + (citation.source || "Cổng Dịch vụ công quốc gia")];
    if (citation.decision) parts.push("quyết định công bố " + citation.decision);
    if (citation.url) parts.push(citation.url);
    document.getElementById("card-citation").textContent = parts.join(" · ");
    card.hidden = false;
  }

  // -- copy -----------------------------------------------------------------------------------

  function copyWithTextarea(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    area.remove();
    return copied;
  }

  function copied(ok) {
    copyStatus.textContent = ok ? "Đã sao chép" : "Không sao chép được — hãy chọn đoạn văn bản và bấm Ctrl+C.";
  }

  copyButton.addEventListener("click", function () {
    if (!shortAnswer) return;
    // The Clipboard API needs a secure context and permission; older or locked-down browsers fall back.
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(shortAnswer).then(
        function () { copied(true); },
        function () { copied(copyWithTextarea(shortAnswer)); }
      );
    } else {
      copied(copyWithTextarea(shortAnswer));
    }
  });
})();
