// `/embed.js`: the partner snippet. `<script src="https://HOST/embed.js" data-region="monaco" …></script>` puts an
// <iframe> of HOST/embed right after the script tag (or into data-target), so the map's scripts and styles stay in
// their own document: nothing leaks into the host page. Its one global, `WeftEmbed.mount(element, options)`, mounts
// more maps from code. Options (data-* or mount's object): region, mode (light|full), center ("lon,lat"), zoom,
// layers ("base,activity,live"), interactive ("0"|"1"), height (CSS, default 400px), width (default 100%), title.
// A classic script (no imports): it must run from any page, as is.

interface EmbedOptions {
  region?: string;
  mode?: string;
  center?: string;
  zoom?: string | number;
  layers?: string;
  interactive?: string | number | boolean;
  height?: string;
  width?: string;
  title?: string;
}

interface WeftEmbedApi {
  version: 1;
  mount(target: Element, options: EmbedOptions): HTMLIFrameElement;
}

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const origin = script?.src ? new URL(script.src, location.href).origin : location.origin;
  const QUERY_KEYS = ['region', 'mode', 'center', 'zoom', 'layers', 'interactive'] as const;

  function mount(target: Element, options: EmbedOptions): HTMLIFrameElement {
    const q = new URLSearchParams();
    for (const k of QUERY_KEYS) {
      const v = options[k];
      if (v === undefined || v === null || v === '') continue;
      q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    const frame = document.createElement('iframe');
    frame.src = `${origin}/embed?${q.toString()}`;
    frame.title = options.title || `Map of ${options.region ?? 'a region'}`;
    frame.setAttribute('allow', 'fullscreen');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-popups allow-forms');
    const s = frame.style;
    s.border = '0';
    s.display = 'block';
    s.width = options.width || '100%';
    s.height = options.height || '400px';
    target.appendChild(frame);
    return frame;
  }

  const w = window as unknown as { WeftEmbed?: WeftEmbedApi };
  if (!w.WeftEmbed) w.WeftEmbed = { version: 1, mount };

  if (script && script.dataset.region) {
    const d = script.dataset;
    const options: EmbedOptions = {
      region: d.region,
      mode: d.mode,
      center: d.center,
      zoom: d.zoom,
      layers: d.layers,
      interactive: d.interactive,
      height: d.height,
      width: d.width,
      title: d.title,
    };
    let target: Element | null = d.target ? document.querySelector(d.target) : null;
    if (!target) {
      target = document.createElement('div');
      script.insertAdjacentElement('afterend', target);
    }
    mount(target, options);
  }
})();
