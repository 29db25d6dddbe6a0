/** The live page: a card per source, fed by /health once and by /stream from then on. */
namespace LivePage {
  const cards: Record<string, Card> = {};
  const sourcesNode = document.getElementById('sources')!;
  const problemsNode = document.getElementById('problems')!;
  let problems = 0;
  /** When the last collection arrived: what a card that loses the stream says it has had no data since. */
  let lastDataAtMs: number | undefined;

  function cardOf(name: string): Card {
    return (cards[name] ??= new Card(name, sourcesNode));
  }

  /** Counted and shown on the page (the count, and the last one in full), and in the console. */
  function problem(what: string): void {
    problems++;
    problemsNode.hidden = false;
    problemsNode.textContent = `${problems} ${problems === 1 ? 'problem' : 'problems'}`;
    problemsNode.title = `last: ${what}`;
    console.warn(`iotflow-metrics live page: ${what}`);
  }

  const connection = new LiveConnection(
    { subprotocol: document.body.dataset.streamSubprotocol ?? '', bearerPrefix: document.body.dataset.bearerPrefix ?? '' },
    {
      message: (message) => {
        lastDataAtMs = Date.now();
        const card = cardOf(message.source);
        if (message.up) card.collected(message);
        else card.failed(message.error, message.timestamp);
      },
      lost: () => {
        const since = lastDataAtMs ?? Date.now();
        for (const name in cards) cards[name].noDataSince(since);
      },
      problem,
    },
  );

  window.addEventListener('resize', () => {
    for (const name in cards) cards[name].resize();
  });

  async function start(): Promise<void> {
    try {
      const response = await fetch('/health', { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const health = (await response.json()) as { sources: Record<string, SourceHealth> };
      for (const name in health.sources) cardOf(name).fromHealth(health.sources[name]);
    } catch (error) {
      problem(`GET /health: ${errorText(error)}`);
    }
    connection.open();
  }

  void start();
}
