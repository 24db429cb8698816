// The browser side of DigitCanvas (helpers/canvas.py), an ES module in anywidget's format.
// `render` builds the canvas, its two buttons and the answer area inside `el`, and talks to
// Python only through the widget's synced traits: `drawing` (the canvas as a PNG data URL)
// and `requests` go to Python, `answer`, `result` and `answered` come back.

function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "mnist-draw";

  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "mnist-draw-canvas";
  canvas.setAttribute("aria-label", "Draw a digit here");
  canvas.setAttribute("role", "img");
  const ctx = canvas.getContext("2d");

  const buttons = document.createElement("div");
  buttons.className = "mnist-draw-buttons";
  const clear = document.createElement("button");
  clear.textContent = "clear";
  clear.className = "mnist-draw-clear";
  const predict = document.createElement("button");
  predict.textContent = "predict";
  predict.className = "mnist-draw-predict";
  buttons.append(clear, predict);

  const answer = document.createElement("div");
  answer.className = "mnist-draw-answer";
  answer.setAttribute("aria-live", "polite");
  const result = document.createElement("div");   // holds the answer's picture, once there is one
  result.className = "mnist-draw-result";

  const left = document.createElement("div");
  left.className = "mnist-draw-left";
  left.append(canvas, buttons, answer);
  root.append(left, result);
  el.appendChild(root);

  let sent = model.get("drawing");   // the drawing Python has, as this view last sent or painted it
  let pen = null;                    // the last point of the stroke being drawn, or null

  function blank() {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
  }
  function paint(url) {
    blank();
    if (url) {
      const img = new Image();
      img.onload = () => ctx.drawImage(img, 0, 0, size, size);
      img.src = url;
    }
  }
  function show() {
    answer.textContent = model.get("answer");
    const url = model.get("result");
    result.replaceChildren();
    if (url) {
      const img = document.createElement("img");
      img.alt = "each model's probabilities for the digit drawn";
      img.src = url;
      result.appendChild(img);
    }
  }
  function send(extra) {
    sent = canvas.toDataURL("image/png");
    model.set("drawing", sent);
    for (const [k, v] of Object.entries(extra || {})) model.set(k, v);
    model.save_changes();
  }
  function point(e) {   // canvas pixels, whatever size the page shows it at (border excluded)
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left - canvas.clientLeft) * size / canvas.clientWidth,
            (e.clientY - r.top - canvas.clientTop) * size / canvas.clientHeight];
  }
  function dot([x, y]) {
    ctx.fillStyle = "#000000";
    ctx.beginPath();
    ctx.arc(x, y, model.get("line_width") / 2, 0, 2 * Math.PI);
    ctx.fill();
  }

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* keep drawing without it */ }
    pen = point(e);
    dot(pen);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pen) return;
    e.preventDefault();
    const p = point(e);
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(pen[0], pen[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    pen = p;
  });
  const end = () => {
    if (!pen) return;
    pen = null;
    send();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  clear.addEventListener("click", () => {
    blank();
    sent = "";
    model.set("drawing", "");
    model.set("answer", "");
    model.set("result", "");
    model.save_changes();
  });
  predict.addEventListener("click", () => {
    answer.textContent = "reading…";
    send({ requests: model.get("requests") + 1 });
  });

  const onDrawing = () => {
    const url = model.get("drawing");
    if (url !== sent) { sent = url; paint(url); }   // a drawing set from Python, or another view
  };
  model.on("change:drawing", onDrawing);
  model.on("change:answer", show);
  model.on("change:result", show);
  model.on("change:answered", show);   // the same answer again still replaces "reading…"
  paint(sent);
  show();
  return () => {   // the view is removed: stop listening to the model
    model.off("change:drawing", onDrawing);
    model.off("change:answer", show);
    model.off("change:result", show);
    model.off("change:answered", show);
  };
}

export default { render };
