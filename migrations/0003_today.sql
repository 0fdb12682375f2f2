-- The one "today" of every date rule (MOU expiry, funding ends, verification age): the calendar day of the
-- session's TimeZone, unless the session sets setu.today to a date (YYYY-MM-DD), so that a test can run all
-- of the date logic on another day without touching the clock. Read with missing_ok: an unset placeholder
-- is NULL, and one that was set and then reset (SET LOCAL after its transaction) is ''.
-- LANGUAGE sql, STABLE, no SET clause: the planner inlines the body, and like current_date it is evaluated
-- once per scan where it is compared with an indexed column.
CREATE FUNCTION setu_today() RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(nullif(current_setting('setu.today', true), '')::date, current_date) $$;
