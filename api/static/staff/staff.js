/*
 * Bảng theo dõi for the people who run the assistant: one request for the period's figures, drawn as
 * Chart.js charts (vendored from npm, served by the API) and plain tables. Data reaches the page only
 * through textContent and Chart.js's canvas, never as markup.
 */
(function () {
  "use strict";

  var CHANNELS = {
    web: "Widget trên web",
    telegram: "Telegram",
    zalo: "Zalo",
    console: "Bảng tra cứu tổng đài",
    api: "API",
  };
  var DECISIONS = { answer: "Đã trả lời", clarify: "Hỏi lại", abstain: "Chưa trả lời được" };
  var COLORS = ["#0a4f9c", "#c2571a", "#1d7a46", "#7a3fa0", "#8a6d00", "#b3261e"];
  var CHART_ITEMS = 10;

  var form = document.getElementById("filters");
  var fromInput = document.getElementById("filters-from");
  var toInput = document.getElementById("filters-to");
  var channelSelect = document.getElementById("filters-channel");
  var status = document.getElementById("status");
  var controller = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function number(value) {
    return Number(value || 0).toLocaleString("vi-VN");
  }

  function percent(rate) {
    if (rate === null || rate === undefined) return "–";
    return (rate * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 }) + "%";
  }

  // "2025-03-05" -> "05/03/2025", the way dates are written in Vietnam.
  function day(iso) {
    var parts = String(iso).slice(0, 10).split("-");
    return parts.length === 3 ? parts[2] + "/" + parts[1] + "/" + parts[0] : String(iso);
  }

  function moment(iso) {
    return day(iso) + " " + String(iso).slice(11, 16);
  }

  function channelName(channel) {
    return CHANNELS[channel] || channel;
  }

  function query() {
    var params = new URLSearchParams();
    if (fromInput.value) params.set("from", fromInput.value);
    if (toInput.value) params.set("to", toInput.value);
    if (channelSelect.value) params.set("channel", channelSelect.value);
    return params;
  }

  function getJson(path, signal) {
    return fetch(path, { headers: { Accept: "application/json" }, signal: signal }).then(function (response) {
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

  // -- charts ---------------------------------------------------------------------------------

  function drawChart(id, config) {
    var canvas = document.getElementById(id);
    if (!window.Chart) return null;
    var previous = window.Chart.getChart(canvas);
    if (previous) previous.destroy();
    config.options = Object.assign(
      { responsive: true, maintainAspectRatio: false, animation: false },
      config.options || {}
    );
    return new window.Chart(canvas, config);
  }

  function countAxis(horizontal, stacked) {
    var scale = { beginAtZero: true, ticks: { precision: 0 }, stacked: Boolean(stacked) };
    var other = { stacked: Boolean(stacked) };
    return horizontal ? { x: scale, y: other } : { x: other, y: scale };
  }

  function shortName(item) {
    var name = item.name || "";
    return item.code + (name ? " · " + (name.length > 40 ? name.slice(0, 39) + "…" : name) : "");
  }

  function drawCharts(data) {
    var perDay = data.questions_per_day;
    drawChart("chart-days", {
      type: "line",
      data: {
        labels: data.period.days.map(day),
        datasets: perDay.channels.map(function (channel, index) {
          var color = COLORS[index % COLORS.length];
          return {
            label: channelName(channel),
            data: perDay.series[channel],
            borderColor: color,
            backgroundColor: color,
            tension: 0, // straight segments: a smoothed curve would dip below zero between days
          };
        }),
      },
      options: { scales: countAxis(false, false), plugins: { legend: { position: "bottom" } } },
    });

    var totals = data.totals;
    drawChart("chart-decisions", {
      type: "bar",
      data: {
        labels: ["Đã trả lời", "Hỏi lại", "Chưa trả lời được", "Chuyển người hỗ trợ (hội thoại)"],
        datasets: [
          {
            label: "Số lượt",
            data: [totals.answered, totals.clarified, totals.abstained, totals.handover_conversations],
            backgroundColor: ["#1d7a46", "#8a6d00", "#b3261e", "#7a3fa0"],
          },
        ],
      },
      options: { scales: countAxis(false, false), plugins: { legend: { display: false } } },
    });

    var top = data.procedures.slice(0, CHART_ITEMS);
    drawChart("chart-procedures", {
      type: "bar",
      data: {
        labels: top.map(shortName),
        datasets: [{ label: "Lượt hỏi", data: top.map(function (p) { return p.questions; }), backgroundColor: COLORS[0] }],
      },
      options: { indexAxis: "y", scales: countAxis(true, false), plugins: { legend: { display: false } } },
    });

    var rated = data.rated_procedures.slice(0, CHART_ITEMS);
    drawChart("chart-useful", {
      type: "bar",
      data: {
        labels: rated.map(shortName),
        datasets: [
          { label: "Hữu ích", data: rated.map(function (p) { return p.useful; }), backgroundColor: "#1d7a46" },
          {
            label: "Chưa hữu ích",
            data: rated.map(function (p) { return p.feedback - p.useful; }),
            backgroundColor: "#b3261e",
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: countAxis(true, true),
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              footer: function (items) {
                var item = rated[items[0].dataIndex];
                return "Tỉ lệ hữu ích: " + percent(item.useful_rate) + " (" + number(item.feedback) + " đánh giá)";
              },
            },
          },
        },
      },
    });
  }

  // -- cards and tables ---------------------------------------------------------------------

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function renderTotals(totals) {
    setText("total-questions", number(totals.questions));
    setText("total-conversations", number(totals.conversations) + " cuộc hội thoại");
    setText("total-answered", number(totals.answered));
    setText("total-clarified", number(totals.clarified));
    setText("total-abstained", number(totals.abstained));
    setText("total-handovers", number(totals.handover_conversations));
    setText("total-useful-rate", percent(totals.useful_rate));
    setText("total-feedback", number(totals.useful) + " / " + number(totals.feedback) + " đánh giá hữu ích");
  }

  function row(cells) {
    var tr = el("tr");
    cells.forEach(function (cell) {
      var td = el("td", cell.className || null);
      if (cell.node) td.appendChild(cell.node);
      else td.textContent = cell.text;
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(bodyId, emptyId, rows) {
    var body = document.getElementById(bodyId);
    body.textContent = "";
    rows.forEach(function (tr) { body.appendChild(tr); });
    document.getElementById(emptyId).hidden = rows.length > 0;
  }

  function renderGaps(gaps) {
    setText(
      "gaps-method",
      "Các câu hỏi cùng ý được gộp thành một nhóm (độ tương đồng cosin ≥ " +
        Number(gaps.threshold).toLocaleString("vi-VN") + ", mã hoá: " + gaps.method + ")."
    );
    fill(
      "gaps-body",
      "gaps-empty",
      gaps.groups.map(function (group) {
        var examples = el("ul", "examples");
        group.examples.forEach(function (text) { examples.appendChild(el("li", null, text)); });
        return row([
          { text: number(group.count), className: "num" },
          { node: examples },
          { text: number(group.abstained), className: "num" },
          { text: number(group.not_useful), className: "num" },
          { text: day(group.last_date) },
        ]);
      })
    );
  }

  function renderProcedures(procedures) {
    fill(
      "procedures-body",
      "procedures-empty",
      procedures.map(function (p) {
        return row([
          { text: p.code, className: "code" },
          { text: p.name || "(không còn trong cơ sở dữ liệu)" },
          { text: number(p.questions), className: "num" },
          { text: number(p.feedback), className: "num" },
          { text: number(p.useful), className: "num" },
          { text: percent(p.useful_rate), className: "num" },
        ]);
      })
    );
  }

  function renderHandovers(handovers) {
    var list = document.getElementById("handovers-list");
    list.textContent = "";
    handovers.forEach(function (handover) {
      var details = el("details", "handover");
      details.setAttribute("data-conversation", handover.conversation);
      details.appendChild(
        el(
          "summary",
          null,
          channelName(handover.channel) + " · lần cuối " + moment(handover.last_at) + " · " +
            handover.turns.length + " lượt · mã " + handover.conversation
        )
      );
      var turns = el("ol", "turns");
      handover.turns.forEach(function (turn) {
        var item = el("li", "turn");
        item.appendChild(el("p", "turn-user", "Người dân (" + moment(turn.at) + "): " + turn.question));
        item.appendChild(el("p", "turn-bot", "Trợ lý [" + (DECISIONS[turn.decision] || turn.decision) + "]: " + turn.reply));
        turns.appendChild(item);
      });
      details.appendChild(turns);
      list.appendChild(details);
    });
    document.getElementById("handovers-empty").hidden = handovers.length > 0;
  }

  function renderExports(params) {
    ["questions", "gaps", "feedback"].forEach(function (kind) {
      var link = new URLSearchParams(params);
      link.set("kind", kind);
      document.getElementById("export-" + kind).href = "/staff/api/export.csv?" + link.toString();
    });
  }

  // -- loading --------------------------------------------------------------------------------

  function load(params) {
    if (controller) controller.abort(); // an older answer must not replace a newer one
    controller = new AbortController();
    var current = controller;
    status.textContent = "Đang tải số liệu…";
    document.body.setAttribute("aria-busy", "true");
    getJson("/staff/api/summary?" + params.toString(), current.signal).then(
      function (data) {
        if (current.signal.aborted) return;
        fromInput.value = data.period.from;
        toInput.value = data.period.to;
        channelSelect.value = data.period.channel || "";
        var shown = new URLSearchParams({ from: data.period.from, to: data.period.to });
        if (data.period.channel) shown.set("channel", data.period.channel);
        window.history.replaceState(null, "", "/staff?" + shown.toString());
        renderTotals(data.totals);
        renderGaps(data.gaps);
        renderProcedures(data.procedures);
        renderHandovers(data.handovers);
        renderExports(shown);
        drawCharts(data);
        document.body.setAttribute("aria-busy", "false");
        document.body.setAttribute("data-loaded", data.period.from + "/" + data.period.to + "/" + (data.period.channel || ""));
        status.textContent = window.Chart
          ? "Số liệu từ " + day(data.period.from) + " đến " + day(data.period.to) + " (" +
            (data.period.channel ? channelName(data.period.channel) : "tất cả các kênh") + ")."
          : "Không tải được thư viện biểu đồ (chart.umd.js): bảng số liệu vẫn đầy đủ bên dưới.";
      },
      function (error) {
        if (error && error.name === "AbortError") return;
        document.body.setAttribute("aria-busy", "false");
        status.textContent = error.message || "Không tải được số liệu, thử lại sau.";
      }
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load(query());
  });

  load(new URLSearchParams(window.location.search));
})();
