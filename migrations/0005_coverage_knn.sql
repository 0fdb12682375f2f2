-- Coverage's nearest-provider lookups (src/modules/coverage/spatial.ts, which writes the same expressions and
-- predicates and proves its answers exact): per country and category, the active providers inside the country's
-- box R, as points in the country's UTM zone (46N Bangladesh, 48N Cambodia), in an SP-GiST quadtree. A planar KNN
-- on it visits a few dozen entries where the geography GiST visits hundreds, which is what 25,800 lookups (every
-- union of Bangladesh × 5 categories) spend their time on. The predicate on R also keeps ST_Transform inside the
-- zone's domain: a provider elsewhere in the world is simply not in these indexes (coverage falls back to
-- providers_nearest_<category> for it).
CREATE INDEX providers_coverage_bgd_health ON providers USING spgist ((ST_Transform(location, 32646)::point))
  WHERE status = 'active' AND categories @> '{health}' AND location && ST_MakeEnvelope(84, 17, 97, 30, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_bgd_legal ON providers USING spgist ((ST_Transform(location, 32646)::point))
  WHERE status = 'active' AND categories @> '{legal}' AND location && ST_MakeEnvelope(84, 17, 97, 30, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_bgd_counselling ON providers USING spgist ((ST_Transform(location, 32646)::point))
  WHERE status = 'active' AND categories @> '{counselling}' AND location && ST_MakeEnvelope(84, 17, 97, 30, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_bgd_shelter ON providers USING spgist ((ST_Transform(location, 32646)::point))
  WHERE status = 'active' AND categories @> '{shelter}' AND location && ST_MakeEnvelope(84, 17, 97, 30, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_bgd_livelihood ON providers USING spgist ((ST_Transform(location, 32646)::point))
  WHERE status = 'active' AND categories @> '{livelihood}' AND location && ST_MakeEnvelope(84, 17, 97, 30, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_khm_health ON providers USING spgist ((ST_Transform(location, 32648)::point))
  WHERE status = 'active' AND categories @> '{health}' AND location && ST_MakeEnvelope(99, 7, 111, 18, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_khm_legal ON providers USING spgist ((ST_Transform(location, 32648)::point))
  WHERE status = 'active' AND categories @> '{legal}' AND location && ST_MakeEnvelope(99, 7, 111, 18, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_khm_counselling ON providers USING spgist ((ST_Transform(location, 32648)::point))
  WHERE status = 'active' AND categories @> '{counselling}' AND location && ST_MakeEnvelope(99, 7, 111, 18, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_khm_shelter ON providers USING spgist ((ST_Transform(location, 32648)::point))
  WHERE status = 'active' AND categories @> '{shelter}' AND location && ST_MakeEnvelope(99, 7, 111, 18, 4326);
--> statement-breakpoint
CREATE INDEX providers_coverage_khm_livelihood ON providers USING spgist ((ST_Transform(location, 32648)::point))
  WHERE status = 'active' AND categories @> '{livelihood}' AND location && ST_MakeEnvelope(99, 7, 111, 18, 4326);
