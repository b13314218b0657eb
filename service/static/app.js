// The routed-vae demo: sliders decode live, drawings and test digits are classified, morphs animate.
"use strict";

const LATENT_SIZE = 10;
const state = {
  latent: new Array(LATENT_SIZE).fill(0),
  sliderMax: 3,
  digitMeans: null, // per-digit mean latent from the model card, used for morphing
  samples: null, // bundled MNIST test images
  decodeBusy: false,
  decodeQueued: false,
  outputUrl: null,
};
const $ = (id) => document.getElementById(id);

function setStatus(text) { $("status").textContent = text; }

// --- API keys -------------------------------------------------------------------------------
// A deployment with API keys answers 401 without one: ask for a key, keep it for this tab only
// (sessionStorage; sent in the Authorization header, never in a URL) and retry.

const KEY_STORAGE = "routed-vae-api-key";
let keyRequest = null; // one dialog at a time, however many requests were refused meanwhile

function showKeyState() { $("forget-key").hidden = !sessionStorage.getItem(KEY_STORAGE); }

function askForKey(rejected) {
  if (keyRequest) return keyRequest;
  keyRequest = new Promise((resolve, reject) => {
    const dialog = $("key-dialog");
    $("key-error").textContent = rejected ? "That key was not accepted; try another." : "";
    $("key-input").value = "";
    dialog.addEventListener("close", () => {
      keyRequest = null;
      const key = dialog.returnValue === "use" ? $("key-input").value.trim() : "";
      $("key-input").value = "";
      if (!key) { reject(new Error("this server needs an API key")); return; }
      sessionStorage.setItem(KEY_STORAGE, key);
      showKeyState();
      resolve(key);
    }, { once: true });
    dialog.showModal();
  });
  return keyRequest;
}

// fetch, with the stored API key; on a 401 asks for a key and tries again (until the dialog is cancelled).
async function apiFetch(path, options = {}) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { ...(options.headers || {}) };
    if (key) headers.Authorization = `Bearer ${key}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    if (key && sessionStorage.getItem(KEY_STORAGE) === key) sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
    await askForKey(Boolean(key));
  }
}

function setUpKeys() {
  showKeyState();
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
    setStatus("API key forgotten.");
  });
}

async function postJson(path, body, accept = "application/json") {
  const response = await apiFetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: accept },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

// --- sliders and live decoding --------------------------------------------------------------

function buildSliders() {
  const container = $("sliders");
  for (let k = 0; k < LATENT_SIZE; k++) {
    const row = document.createElement("div");
    row.className = "slider";
    row.innerHTML = `<label for="slider-${k}">${k}</label>
      <input type="range" id="slider-${k}" data-testid="slider-${k}" min="0" max="${state.sliderMax}"
             step="0.01" value="0" aria-label="Amount of digit ${k}">
      <output id="value-${k}" for="slider-${k}">0.00</output>`;
    container.appendChild(row);
    row.querySelector("input").addEventListener("input", (event) => {
      state.latent[k] = Number(event.target.value);
      showLatent();
      requestDecode();
    });
  }
}

function showLatent() {
  const vector = $("latent-vector");
  vector.innerHTML = "";
  state.latent.forEach((value, k) => {
    const input = $(`slider-${k}`);
    input.value = String(value);
    $(`value-${k}`).textContent = value.toFixed(2);
    const bar = document.createElement("span");
    bar.style.height = `${Math.min(100, (100 * value) / state.sliderMax)}%`;
    bar.title = `${k}: ${value.toFixed(2)}`;
    vector.appendChild(bar);
  });
}

// One decode in flight at a time; moves made meanwhile collapse into one follow-up request.
function requestDecode() {
  if (state.decodeBusy) { state.decodeQueued = true; return; }
  state.decodeBusy = true;
  decodeNow().finally(() => {
    state.decodeBusy = false;
    if (state.decodeQueued) { state.decodeQueued = false; requestDecode(); }
  });
}

async function decodeNow() {
  const latent = state.latent.map((v) => Math.min(Math.max(v, 0), 10));
  try {
    const response = await postJson("/decode?scale=8", { latents: [latent] }, "image/png");
    const url = URL.createObjectURL(await response.blob());
    $("output-image").src = url;
    if (state.outputUrl) URL.revokeObjectURL(state.outputUrl);
    state.outputUrl = url;
  } catch (error) {
    setStatus(`Decode failed: ${error.message}`);
  }
}

function setLatent(latent) {
  state.latent = latent.map((v) => Math.min(Math.max(v, 0), state.sliderMax));
  showLatent();
  requestDecode();
}

// --- classification results -----------------------------------------------------------------

function showPrediction(prediction, seenImageSrc, caption) {
  $("prediction").textContent = String(prediction.digit);
  $("confidence").textContent = `(${Math.round(prediction.confidence * 100)} % of the activation)`;
  $("seen-image").src = seenImageSrc;
  $("seen-caption").textContent = caption;
  const bars = $("bars");
  bars.innerHTML = "";
  const top = Math.max(...prediction.latent, 1e-6);
  prediction.latent.forEach((value, k) => {
    const row = document.createElement("div");
    row.className = k === prediction.digit ? "bar top" : "bar";
    row.innerHTML = `<span>${k}</span><div class="track"><div class="fill"></div></div>
      <span>${value.toFixed(2)}</span>`;
    // Set through the DOM: the Content-Security-Policy refuses inline style attributes.
    row.querySelector(".fill").style.width = `${(100 * value) / top}%`;
    bars.appendChild(row);
  });
  setLatent(prediction.latent);
}

function pixelsToDataUrl(pixels) {
  const canvas = document.createElement("canvas");
  canvas.width = 28; canvas.height = 28;
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  pixels.forEach((value, i) => {
    image.data.set([value, value, value, 255], i * 4);
  });
  context.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}

async function randomTestDigit() {
  if (!state.samples) return;
  const i = Math.floor(Math.random() * state.samples.labels.length);
  const bytes = Uint8Array.from(atob(state.samples.pixels[i]), (c) => c.charCodeAt(0));
  const rows = [];
  for (let r = 0; r < 28; r++) rows.push(Array.from(bytes.slice(r * 28, r * 28 + 28), (v) => v / 255));
  try {
    const response = await postJson("/classify", { images: [rows] });
    const prediction = (await response.json()).predictions[0];
    const label = state.samples.labels[i];
    showPrediction(prediction, pixelsToDataUrl(bytes), `MNIST test image #${state.samples.indices[i]}, label ${label}`);
    setStatus(`Random test digit: label ${label}, predicted ${prediction.digit}.`);
  } catch (error) {
    setStatus(`Classify failed: ${error.message}`);
  }
}

// --- drawing pad ----------------------------------------------------------------------------

function setUpDrawing() {
  const canvas = $("draw-canvas");
  const context = canvas.getContext("2d");
  let drawing = false;
  let last = null;
  const clear = () => { context.fillStyle = "#000"; context.fillRect(0, 0, canvas.width, canvas.height); };
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  };
  clear();
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = point(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const next = point(event);
    context.strokeStyle = "#fff";
    // 24 px on the 280 px pad: after auto the strokes are as wide as MNIST's (docs/input-kinds.md).
    context.lineWidth = 24;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(last[0], last[1]);
    context.lineTo(next[0], next[1]);
    context.stroke();
    last = next;
  });
  const finish = () => { if (drawing) { drawing = false; classifyDrawing(); } };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  $("clear").addEventListener("click", clear);
  $("classify").addEventListener("click", classifyDrawing);
}

async function classifyDrawing() {
  const dataUrl = $("draw-canvas").toDataURL("image/png");
  try {
    const [classified, seen] = await Promise.all([
      postJson("/classify?preprocess=auto", { images: [dataUrl] }),
      postJson("/preprocess?preprocess=auto", { images: [dataUrl] }),
    ]);
    const prediction = (await classified.json()).predictions[0];
    const seenPng = (await seen.json()).images[0];
    showPrediction(prediction, `data:image/png;base64,${seenPng}`, "your drawing as the model saw it (28×28)");
    setStatus(`Your drawing: predicted ${prediction.digit}.`);
  } catch (error) {
    setStatus(`Classify failed: ${error.message}`);
  }
}

// --- morphing -------------------------------------------------------------------------------

function morph() {
  const from = Number($("morph-from").value);
  const to = Number($("morph-to").value);
  const start = state.digitMeans ? state.digitMeans[from] : oneHot(from);
  const end = state.digitMeans ? state.digitMeans[to] : oneHot(to);
  const began = performance.now();
  const duration = 1500;
  const step = (now) => {
    const t = Math.min(1, (now - began) / duration);
    const eased = 0.5 - Math.cos(Math.PI * t) / 2;
    setLatent(start.map((a, k) => a + (end[k] - a) * eased));
    if (t < 1) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

function oneHot(k) {
  const latent = new Array(LATENT_SIZE).fill(0);
  latent[k] = Math.min(2, state.sliderMax);
  return latent;
}

// --- start-up -------------------------------------------------------------------------------

async function loadModelCard() {
  try {
    const card = await (await apiFetch("/v1/model")).json();
    state.sliderMax = card.slider_max || 3;
    const stats = card.latent_statistics && card.latent_statistics.per_digit;
    if (stats) state.digitMeans = stats.map((digit) => digit.mean);
    const accuracy = (100 * card.test_metrics.argmax_accuracy).toFixed(2);
    $("model-line").textContent = `Model ${card.name} ${card.version} · test accuracy ${accuracy} % · sha256 ${card.sha256.slice(0, 12)}…`;
  } catch (error) {
    $("model-line").textContent = "Model card unavailable.";
  }
}

async function loadSamples() {
  try {
    state.samples = await (await fetch("/static/mnist-samples.json")).json();
  } catch (error) {
    setStatus("Bundled test digits could not be loaded.");
  }
}

async function main() {
  setUpKeys();
  await loadModelCard();
  buildSliders();
  for (const id of ["morph-from", "morph-to"]) {
    for (let k = 0; k < LATENT_SIZE; k++) $(id).add(new Option(String(k), String(k)));
  }
  $("morph-to").value = "8";
  setUpDrawing();
  $("reset").addEventListener("click", () => setLatent(new Array(LATENT_SIZE).fill(0)));
  $("random-digit").addEventListener("click", randomTestDigit);
  $("morph").addEventListener("click", morph);
  setLatent(oneHot(3));
  await loadSamples();
}

main();
