/**
 * A realistic application database, generated inside the server with generate_series so
 * a gigabyte takes minutes: accounts, users, products, orders, order items, an event log
 * and comments, with natural-language-like text, jsonb, uuids, timestamps, numerics,
 * indexes and foreign keys. Text comes from a Zipf-distributed vocabulary (a few hundred
 * English words, then made-up words), assembled into a pool of sentences proportional to
 * the database, so long texts repeat about as rarely as real ones do and compress like
 * them (roughly 2–3× with gzip), not 50:1 like pgbench's blank-padded rows.
 */
import pg from 'pg';

/** Rows per table at scale 1, which lands near 1 GB on disk (pg_database_size) with indexes. */
const BASE_ROWS = {
  accounts: 20_000,
  users: 250_000,
  products: 20_000,
  orders: 900_000,
  orderItems: 2_300_000,
  events: 1_400_000,
  comments: 450_000,
  sentences: 400_000,
};

/** Measured size of scale 1; the generator divides the requested size by it. */
export const GB_PER_SCALE = 1.3;

const COMMON_WORDS =
  'the of and to a in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their has been if more when will would who so no can out up into them some could only time other new than also about its people then two first any these may like over after our most did many such where made well through me back much way years even before should because just those each how both being between what see work used life still own under day long down while world same three get make last great never here right year good place take think help found however part against number information name business customer order account user product service report data team support update issue payment review system price delivery please thanks invoice shipping refund week today tomorrow problem question change request';

const SYLLABLES =
  'ba be bi bo ca ce co da de di do fa fe fi ga ge go ha he hi ho ja ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi za ze an en in on ar er ir or al el il ol st tr pl gr ch sh th ex ment tion ing ed ly ous ive able';

export interface GenerateOptions {
  /** Target size in GB on disk; scales every table's row count. */
  sizeGb: number;
  log?: (line: string) => void;
}

export interface TableStats {
  name: string;
  rows: number;
  bytes: number;
}

export interface GeneratedDatabase {
  sizeGb: number;
  scale: number;
  databaseBytes: number;
  tables: TableStats[];
  seconds: number;
}

/** A deterministic pseudo-random word list, so every run generates the same kinds of names. */
function madeWords(count: number, seed: number, syllables: number[]): string[] {
  const parts = SYLLABLES.split(' ');
  // mulberry32: small, fast and good enough that every syllable combination is reachable.
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const words = new Set<string>();
  while (words.size < count) {
    const length = syllables[next() % syllables.length]!;
    let word = '';
    for (let i = 0; i < length; i++) word += parts[next() % parts.length];
    words.add(word);
  }
  return [...words];
}

function sqlArray(values: string[]): string {
  return `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]::text[]`;
}

/** Picks element `expr` (any integer expression) of a literal array, wrapping around. */
function pick(values: string[], expr: string): string {
  return `(${sqlArray(values)})[1 + ((${expr}) % ${values.length} + ${values.length}) % ${values.length}]`;
}

/** `k` consecutive sentences from a random place in the pool; `seed` makes it one pick per row. */
function sentences(pool: number, k: string, seed: string): string {
  return `(SELECT string_agg(s.txt, ' ') FROM bench_gen.sentences s,
      (SELECT floor(random() * ${pool})::int + 0 * (${seed}) AS p) r
      WHERE s.id >= r.p AND s.id < r.p + (${k}))`;
}

function poolSize(scale: number): number {
  return Math.max(50_000, Math.round(BASE_ROWS.sentences * scale));
}

function setupSql(scale: number): string[] {
  const pool = poolSize(scale);
  const invented = madeWords(30_000, 7, [2, 2, 3, 3, 4]);
  return [
    'DROP SCHEMA IF EXISTS bench_gen CASCADE',
    'CREATE SCHEMA bench_gen',
    // Rank 1 is the most frequent word; common English words first, then made-up ones.
    `CREATE TABLE bench_gen.vocab AS
       SELECT row_number() OVER (ORDER BY o, ord)::int AS rank, w FROM (
         SELECT 0 AS o, ord, w FROM unnest(string_to_array('${COMMON_WORDS}', ' ')) WITH ORDINALITY AS c(w, ord)
         UNION ALL
         SELECT 1, ord, w FROM unnest(${sqlArray(invented)}) WITH ORDINALITY AS m(w, ord)
       ) words`,
    'ALTER TABLE bench_gen.vocab ADD PRIMARY KEY (rank)',
    'ANALYZE bench_gen.vocab',
    // Zipf (s = 1): rank = floor(N^u). Sentences of 4 to 12 words, a few numbers, a capital and a full stop.
    `CREATE TABLE bench_gen.sentences AS
       WITH picks AS (
         SELECT n / 12 AS sid, n, floor(exp(random() * ln(30000)))::int AS rank
         FROM generate_series(0::bigint, ${pool * 12 - 1}) n
         WHERE n % 12 < 4 + (n / 12 * 7919) % 9
       ), joined AS (
         SELECT sid, CASE WHEN random() < 0.03 THEN (random() * 2000)::int::text ELSE v.w END AS w
         FROM picks p JOIN bench_gen.vocab v USING (rank)
       )
       SELECT sid::int AS id, initcap(left(t, 1)) || substr(t, 2) || '.' AS txt
       FROM (SELECT sid, string_agg(w, ' ') AS t FROM joined GROUP BY sid) s`,
    'ALTER TABLE bench_gen.sentences ADD PRIMARY KEY (id)',
    'ANALYZE bench_gen.sentences',
  ];
}

const FIRST = madeWords(400, 11, [2, 2, 3]);
const LAST = madeWords(900, 13, [2, 3, 3, 4]);
const CITIES = madeWords(300, 17, [2, 3, 4]);
const STREETS = madeWords(500, 19, [2, 3]);
const NOUNS = madeWords(600, 23, [2, 3]);
const DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'outlook.com',
  'hotmail.com',
  'icloud.com',
  'proton.me',
  'gmx.de',
  ...madeWords(200, 29, [2, 3]).map((w) => `${w}.com`),
];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'NL', 'BR', 'IN', 'AU', 'ES', 'IT', 'SE', 'JP'];
const TIMEZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Los_Angeles',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Paris',
  'Asia/Tokyo',
  'Asia/Kolkata',
  'Australia/Sydney',
  'America/Sao_Paulo',
];
const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'pt-BR', 'ja-JP', 'nl-NL'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
  'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
];
const EVENT_KINDS = [
  'page_view',
  'page_view',
  'page_view',
  'api_call',
  'api_call',
  'login',
  'logout',
  'search',
  'add_to_cart',
  'checkout_started',
  'payment_succeeded',
  'payment_failed',
  'settings_changed',
  'export_requested',
];
const PATHS = [
  '/app/dashboard',
  '/app/orders',
  '/app/orders/:id',
  '/app/products',
  '/app/products/:id',
  '/app/settings/profile',
  '/app/settings/billing',
  '/api/v1/orders',
  '/api/v1/products',
  '/api/v1/users/me',
  '/api/v1/search',
  '/app/reports/monthly',
];

/** A timestamp that grows with `g` out of `n` over three years, with a day of jitter. */
function timeline(g: string, n: number): string {
  return `(timestamptz '2022-01-01 00:00:00+00' + (${g})::float8 / ${n} * interval '1095 days' + random() * interval '1 day')`;
}

function userId(expr: string): string {
  return `md5('user-' || (${expr}))::uuid`;
}

function rand(n: number | string): string {
  return `floor(random() * ${n})::bigint`;
}

function tableSql(scale: number): Record<string, string> {
  const pool = poolSize(scale);
  const n = Object.fromEntries(
    Object.entries(BASE_ROWS).map(([k, v]) => [k, Math.max(100, Math.round(v * scale))]),
  ) as Record<keyof typeof BASE_ROWS, number>;
  return {
    accounts: `CREATE TABLE accounts AS
      SELECT g::bigint AS id,
        gen_random_uuid() AS public_id,
        initcap(${pick(NOUNS, 'g * 31')} || ' ' || ${pick(NOUNS, 'g * 17 + 3')}) AS name,
        ${pick(NOUNS, 'g * 31')} || '-' || ${pick(NOUNS, 'g * 17 + 3')} || '-' || g AS slug,
        (ARRAY['free','free','free','pro','pro','team','enterprise'])[1 + g % 7] AS plan,
        'billing@' || ${pick(DOMAINS, 'g * 7')} AS billing_email,
        ${pick(COUNTRIES, 'g * 13')}::char(2) AS country,
        ${timeline('g', n.accounts)} AS created_at,
        round((random() * 5000)::numeric, 2) AS balance,
        jsonb_build_object(
          'timezone', ${pick(TIMEZONES, 'g * 3')},
          'locale', ${pick(LOCALES, 'g * 5')},
          'seats', 1 + g % 50,
          'features', jsonb_build_object('sso', g % 5 = 0, 'audit_log', g % 3 = 0, 'api_access', g % 2 = 0),
          'onboarding', jsonb_build_object('completed', random() < 0.8, 'step', g % 6)
        ) AS settings
      FROM generate_series(1::bigint, ${n.accounts}) g`,
    users: `CREATE TABLE users AS
      SELECT ${userId('g')} AS id,
        1 + (g * 7919) % ${n.accounts} AS account_id,
        lower(${pick(FIRST, 'g')}) || '.' || lower(${pick(LAST, 'g * 7 + 1')}) || g || '@' || ${pick(DOMAINS, 'g * 11')} AS email,
        initcap(${pick(FIRST, 'g')}) || ' ' || initcap(${pick(LAST, 'g * 7 + 1')}) AS full_name,
        (ARRAY['member','member','member','admin','owner','viewer'])[1 + g % 6] AS role,
        CASE WHEN random() < 0.5 THEN ${sentences(pool, '1 + g % 4', 'g')} END AS bio,
        ${timeline('g', n.users)} AS created_at,
        ${timeline('g', n.users)} + random() * interval '200 days' AS last_seen_at,
        random() < 0.9 AS is_active,
        jsonb_build_object(
          'theme', (ARRAY['light','dark','system'])[1 + g % 3],
          'locale', ${pick(LOCALES, 'g * 3')},
          'timezone', ${pick(TIMEZONES, 'g * 7')},
          'notifications', jsonb_build_object('email', g % 4 <> 0, 'push', g % 3 = 0, 'digest', (ARRAY['daily','weekly','never'])[1 + g % 3])
        ) AS preferences
      FROM generate_series(1::bigint, ${n.users}) g`,
    products: `CREATE TABLE products AS
      SELECT g::bigint AS id,
        1 + (g * 104729) % ${n.accounts} AS account_id,
        upper(left(${pick(NOUNS, 'g * 5')}, 3)) || '-' || lpad(g::text, 7, '0') AS sku,
        initcap(${pick(NOUNS, 'g * 5')} || ' ' || ${pick(NOUNS, 'g * 3 + 1')}) AS name,
        ${sentences(pool, '2 + g % 7', 'g')} AS description,
        round((1 + random() * 499)::numeric, 2) AS price,
        (ARRAY['USD','USD','EUR','GBP'])[1 + g % 4]::char(3) AS currency,
        (random() * 1000)::int AS stock,
        jsonb_build_object(
          'color', (ARRAY['red','blue','green','black','white','grey','navy'])[1 + g % 7],
          'size', (ARRAY['XS','S','M','L','XL'])[1 + g % 5],
          'weight_g', 50 + g % 2000,
          'tags', jsonb_build_array(${pick(NOUNS, 'g')}, ${pick(NOUNS, 'g * 7')}),
          'dimensions', jsonb_build_object('w', 10 + g % 40, 'h', 5 + g % 30, 'd', 1 + g % 20)
        ) AS attributes,
        ${timeline('g', n.products)} AS created_at,
        ${timeline('g', n.products)} + random() * interval '90 days' AS updated_at
      FROM generate_series(1::bigint, ${n.products}) g`,
    orders: `CREATE TABLE orders AS
      SELECT g::bigint AS id,
        ${userId(`1 + ${rand(n.users)} + 0 * g`)} AS user_id,
        1 + (g * 7919) % ${n.accounts} AS account_id,
        (ARRAY['delivered','delivered','delivered','delivered','shipped','paid','pending','cancelled','refunded'])[1 + (g * 13) % 9] AS status,
        (ARRAY['USD','USD','EUR','GBP'])[1 + g % 4]::char(3) AS currency,
        sub AS subtotal,
        round(sub * 0.08, 2) AS tax,
        round(sub * 1.08, 2) AS total,
        ${timeline('g', n.orders)} AS created_at,
        ${timeline('g', n.orders)} + random() * interval '10 days' AS updated_at,
        jsonb_build_object(
          'name', initcap(${pick(FIRST, 'g * 3')}) || ' ' || initcap(${pick(LAST, 'g * 5')}),
          'line1', (1 + g % 400) || ' ' || initcap(${pick(STREETS, 'g * 7')}) || ' Street',
          'city', initcap(${pick(CITIES, 'g * 11')}),
          'postal_code', lpad(((g * 7919) % 99999)::text, 5, '0'),
          'country', ${pick(COUNTRIES, 'g * 13')}
        ) AS shipping_address,
        CASE WHEN random() < 0.2 THEN ${sentences(pool, '1 + g % 2', 'g')} END AS notes
      FROM (SELECT g, round((5 + random() * 495)::numeric, 2) AS sub FROM generate_series(1::bigint, ${n.orders}) g) o`,
    order_items: `CREATE TABLE order_items AS
      SELECT g::bigint AS id,
        1 + (g - 1) * ${n.orders} / ${n.orderItems} AS order_id,
        1 + ${rand(n.products)} + 0 * g AS product_id,
        1 + (random() * random() * 9)::int AS quantity,
        round((1 + random() * 499)::numeric, 2) AS unit_price,
        CASE WHEN random() < 0.15 THEN round((random() * 30)::numeric, 2) ELSE 0 END AS discount
      FROM generate_series(1::bigint, ${n.orderItems}) g`,
    events: `CREATE TABLE events AS
      SELECT g::bigint AS id,
        ${userId(`1 + ${rand(n.users)} + 0 * g`)} AS user_id,
        ${pick(EVENT_KINDS, 'g * 7 + (random() * 3)::int')} AS kind,
        ${timeline('g', n.events)} AS occurred_at,
        ('10.' || (g % 250) || '.' || ((g * 7) % 250) || '.' || (1 + (g * 13) % 250))::inet AS ip,
        ${pick(AGENTS, `(g / 40) * 3 + (random() * 2)::int`)} AS user_agent,
        gen_random_uuid() AS request_id,
        jsonb_build_object(
          'path', ${pick(PATHS, 'g * 5 + (random() * 4)::int')},
          'method', (ARRAY['GET','GET','GET','POST','PUT','DELETE'])[1 + g % 6],
          'status', (ARRAY[200,200,200,200,201,204,304,400,401,404,500])[1 + (g * 7) % 11],
          'duration_ms', (random() * random() * 2000)::int,
          'ref', CASE WHEN random() < 0.3 THEN 'order:' || (1 + ${rand(n.orders)}) END,
          'query', CASE WHEN random() < 0.1 THEN ${pick(NOUNS, 'g * 3')} || ' ' || ${pick(NOUNS, 'g')} END
        ) AS payload
      FROM generate_series(1::bigint, ${n.events}) g`,
    comments: `CREATE TABLE comments AS
      SELECT g::bigint AS id,
        ${userId(`1 + ${rand(n.users)} + 0 * g`)} AS user_id,
        CASE WHEN random() < 0.7 THEN 1 + ${rand(n.orders)} + 0 * g END AS order_id,
        ${sentences(pool, '1 + (g * 7) % 9', 'g')} AS body,
        ${timeline('g', n.comments)} AS created_at,
        CASE WHEN random() < 0.1 THEN ${timeline('g', n.comments)} + random() * interval '3 days' END AS edited_at,
        round(random()::numeric * 2 - 1, 3) AS sentiment
      FROM generate_series(1::bigint, ${n.comments}) g`,
  };
}

/** Keys, uniques and plain indexes first (per table, in parallel); foreign keys once every key exists. */
const KEYS: Record<string, string[]> = {
  accounts: [
    'ALTER TABLE accounts ADD PRIMARY KEY (id)',
    'CREATE UNIQUE INDEX accounts_public_id_key ON accounts (public_id)',
    'CREATE UNIQUE INDEX accounts_slug_key ON accounts (slug)',
  ],
  users: [
    'ALTER TABLE users ADD PRIMARY KEY (id)',
    'CREATE UNIQUE INDEX users_email_key ON users (email)',
    'CREATE INDEX users_account_id_idx ON users (account_id)',
  ],
  products: [
    'ALTER TABLE products ADD PRIMARY KEY (id)',
    'CREATE UNIQUE INDEX products_sku_key ON products (sku)',
    'CREATE INDEX products_attributes_idx ON products USING gin (attributes jsonb_path_ops)',
  ],
  orders: [
    'ALTER TABLE orders ADD PRIMARY KEY (id)',
    'CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at)',
    "CREATE INDEX orders_open_idx ON orders (created_at) WHERE status IN ('pending', 'paid')",
  ],
  order_items: [
    'ALTER TABLE order_items ADD PRIMARY KEY (id)',
    'CREATE INDEX order_items_order_id_idx ON order_items (order_id)',
  ],
  events: [
    'ALTER TABLE events ADD PRIMARY KEY (id)',
    'CREATE INDEX events_user_id_occurred_at_idx ON events (user_id, occurred_at)',
  ],
  comments: [
    'ALTER TABLE comments ADD PRIMARY KEY (id)',
    'CREATE INDEX comments_order_id_idx ON comments (order_id)',
  ],
};

const FOREIGN_KEYS = [
  'ALTER TABLE users ADD FOREIGN KEY (account_id) REFERENCES accounts (id)',
  'ALTER TABLE products ADD FOREIGN KEY (account_id) REFERENCES accounts (id)',
  'ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)',
  'ALTER TABLE orders ADD FOREIGN KEY (account_id) REFERENCES accounts (id)',
  'ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE',
  'ALTER TABLE order_items ADD FOREIGN KEY (product_id) REFERENCES products (id)',
  'ALTER TABLE events ADD FOREIGN KEY (user_id) REFERENCES users (id)',
  'ALTER TABLE comments ADD FOREIGN KEY (user_id) REFERENCES users (id)',
  'ALTER TABLE comments ADD FOREIGN KEY (order_id) REFERENCES orders (id)',
];

/** What an application schema also carries: a view, a function, a trigger, row-level security. */
const EXTRAS = [
  `CREATE VIEW order_totals AS
     SELECT o.account_id, date_trunc('month', o.created_at) AS month, count(*) AS orders, sum(o.total) AS revenue
     FROM orders o WHERE o.status NOT IN ('cancelled', 'refunded') GROUP BY 1, 2`,
  `CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS
     $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$`,
  'CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at()',
  'ALTER TABLE comments ENABLE ROW LEVEL SECURITY',
  "CREATE POLICY comments_owner ON comments USING (user_id::text = current_setting('app.user_id', true))",
];

/** Two sessions share the work; tables are split so each side has about half the bytes. */
const LANES = [
  ['events', 'users', 'products', 'accounts'],
  ['orders', 'comments', 'order_items'],
];

async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET work_mem = '256MB'");
  await client.query("SET maintenance_work_mem = '256MB'");
  await client.query('SET synchronous_commit = off');
  return client;
}

export async function generateDatabase(url: string, options: GenerateOptions): Promise<GeneratedDatabase> {
  const log = options.log ?? (() => undefined);
  const scale = options.sizeGb / GB_PER_SCALE;
  const started = Date.now();
  const clients = await Promise.all(LANES.map(() => session(url)));
  const [first] = clients as [pg.Client, pg.Client];
  const timed = async (client: pg.Client, label: string, sql: string) => {
    const at = Date.now();
    await client.query(sql);
    log(`  ${label} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
  };
  try {
    log(`Generating about ${options.sizeGb} GB (scale ${scale.toFixed(2)}): vocabulary and sentence pool…`);
    for (const sql of setupSql(scale)) await first.query(sql);
    const tables = tableSql(scale);
    await Promise.all(
      LANES.map(async (lane, i) => {
        for (const name of lane) await timed(clients[i]!, name, tables[name]!);
      }),
    );
    log('Keys and indexes…');
    await Promise.all(
      LANES.map(async (lane, i) => {
        for (const name of lane) for (const sql of KEYS[name]!) await clients[i]!.query(sql);
      }),
    );
    for (const sql of [...FOREIGN_KEYS, ...EXTRAS]) await first.query(sql);
    await first.query('DROP SCHEMA bench_gen CASCADE');
    // Sets hint bits and the visibility map, so the first dump does not pay for writing them.
    log('Vacuum and analyze…');
    await Promise.all(
      LANES.map(async (lane, i) => {
        for (const name of lane) await clients[i]!.query(`VACUUM (FREEZE, ANALYZE) ${name}`);
      }),
    );
    await first.query('CHECKPOINT');
    const { rows } = await first.query<{ name: string; rows: string; bytes: string }>(
      `SELECT c.relname AS name, c.reltuples::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC`,
    );
    const size = await first.query<{ bytes: string }>(
      'SELECT pg_database_size(current_database())::text AS bytes',
    );
    return {
      sizeGb: options.sizeGb,
      scale,
      databaseBytes: Number(size.rows[0]?.bytes),
      tables: rows.map((r) => ({ name: r.name, rows: Number(r.rows), bytes: Number(r.bytes) })),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
