-- Point-in-polygon against real boundaries: a division or district polygon has hundreds or thousands of vertices,
-- and testing a point against it (and its GiST bounding box, which overlaps many neighbours) costs far more than
-- against small pieces of it. area_parts holds each area cut by ST_Subdivide into pieces of at most 64 vertices,
-- each with a tight bounding box; lookups test the pieces (src/modules/areas/spatial.ts), not areas.geom. 64 rather
-- than 256: a lookup among the Bangladesh boundaries costs 20 % less CPU, for 0.5 s more at import.
-- Triggers on areas keep the pieces in step with every write of an area (the importer, the demo loader, tests,
-- hand-written SQL), inside the writing transaction.
CREATE TABLE area_parts (
  pcode text NOT NULL REFERENCES areas (pcode) ON DELETE CASCADE ON UPDATE CASCADE,
  geom geometry(Geometry, 4326) NOT NULL
);
--> statement-breakpoint
CREATE INDEX area_parts_geom_gist ON area_parts USING gist (geom);
--> statement-breakpoint
CREATE INDEX area_parts_pcode ON area_parts (pcode);
--> statement-breakpoint
-- ST_Subdivide of an invalid polygon may fail or drop pieces; such a polygon (only hand-written SQL can store
-- one: the importer repairs) is kept whole, so lookups stay right, only slower for it.
CREATE FUNCTION area_pieces(g geometry) RETURNS SETOF geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ST_Subdivide(g, 64) WHERE ST_IsValid(g)
  UNION ALL
  SELECT g WHERE NOT ST_IsValid(g)
$$;
--> statement-breakpoint
-- Deleting by both codes covers an UPDATE that changes pcode and geom at once, whichever of this trigger and the
-- foreign key's ON UPDATE CASCADE runs first. Deletes follow the foreign key (ON DELETE CASCADE).
CREATE FUNCTION area_parts_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM area_parts WHERE pcode IN (OLD.pcode, NEW.pcode);
  END IF;
  INSERT INTO area_parts (pcode, geom) SELECT NEW.pcode, piece FROM area_pieces(NEW.geom) piece;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER area_parts_insert AFTER INSERT ON areas
  FOR EACH ROW EXECUTE FUNCTION area_parts_sync();
--> statement-breakpoint
CREATE TRIGGER area_parts_update AFTER UPDATE OF geom ON areas
  FOR EACH ROW WHEN (OLD.geom IS DISTINCT FROM NEW.geom) EXECUTE FUNCTION area_parts_sync();
--> statement-breakpoint
INSERT INTO area_parts (pcode, geom) SELECT a.pcode, piece FROM areas a, area_pieces(a.geom) piece;
