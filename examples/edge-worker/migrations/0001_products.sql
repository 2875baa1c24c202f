-- The demo's origin: the products table in D1, seeded. Applied by `pnpm dev` (wrangler d1 migrations apply --local,
-- before wrangler dev) and by the tests (applyD1Migrations).
CREATE TABLE products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  cents INTEGER NOT NULL CHECK (cents >= 0)
);

INSERT INTO products (id, name, cents) VALUES
  ('1', 'Teapot', 1800),
  ('2', 'Kettle', 3900),
  ('3', 'Mug', 900),
  ('4', 'Tea towel', 700);
