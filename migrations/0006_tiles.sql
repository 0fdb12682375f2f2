-- Map tiles (src/modules/tiles): each area's polygon generalised once per zoom band, so that a tile reads small
-- polygons instead of clipping and quantising the full boundaries on every request (a zoom-6 tile over Dhaka cost
-- 50-60 ms from areas.geom, 5-10 ms from these). Band b holds the polygon simplified to half a screen pixel at zoom b
-- (a 512-pixel tile: 360 / 2^b / 1024 degrees), so a tile at zoom b or b + 1 is off by at most one pixel; tiles at
-- zoom 14 and above read areas.geom. Each area is simplified on its own (area_generalise): a border shared by two
-- areas is simplified on each side separately and may differ by up to that pixel (ST_CoverageSimplify, which keeps
-- shared borders, needs PostGIS 3.4 / GEOS 3.12, newer than Debian 12's). Triggers keep the bands in step with every
-- write of an area, like area_parts.
CREATE TABLE area_generalised (
  pcode text NOT NULL REFERENCES areas (pcode) ON DELETE CASCADE ON UPDATE CASCADE,
  zoom smallint NOT NULL,
  geom geometry(Geometry, 4326) NOT NULL,
  PRIMARY KEY (zoom, pcode)
);
--> statement-breakpoint
CREATE INDEX area_generalised_geom_gist ON area_generalised USING gist (geom);
--> statement-breakpoint
-- ST_SimplifyPreserveTopology keeps each ring valid but simplifies the parts of a multipolygon (the islands of the
-- coast) separately, so that at the coarse bands one part can come to lie in or across another; such a result is
-- repaired (its polygonal part kept), any other stored as it is.
CREATE FUNCTION area_generalise(g geometry, band int) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN ST_IsValid(s) THEN s ELSE ST_CollectionExtract(ST_MakeValid(s), 3) END
  FROM (SELECT ST_SimplifyPreserveTopology(g, 360.0 / (2 ^ band) / 1024) AS s) x
$$;
--> statement-breakpoint
CREATE FUNCTION area_generalised_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM area_generalised WHERE pcode IN (OLD.pcode, NEW.pcode);
  END IF;
  INSERT INTO area_generalised (pcode, zoom, geom)
  SELECT NEW.pcode, b, area_generalise(NEW.geom, b)
  FROM unnest(ARRAY[0, 2, 4, 6, 8, 10, 12]) b;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER area_generalised_insert AFTER INSERT ON areas
  FOR EACH ROW EXECUTE FUNCTION area_generalised_sync();
--> statement-breakpoint
CREATE TRIGGER area_generalised_update AFTER UPDATE OF geom ON areas
  FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom) EXECUTE FUNCTION area_generalised_sync();
--> statement-breakpoint
INSERT INTO area_generalised (pcode, zoom, geom)
SELECT a.pcode, b, area_generalise(a.geom, b)
FROM areas a, unnest(ARRAY[0, 2, 4, 6, 8, 10, 12]) b;
