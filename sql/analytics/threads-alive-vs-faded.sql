-- How many threads were alive and how many had faded at the end of each UTC day, per region (fade rule: 7 days without engagement), next to the fade events recorded that day.
WITH engagements AS (
  SELECT stream_id AS thread_id, region_id, occurred_at AS t
  FROM timeline
  WHERE type IN ('ThreadSpun', 'ThreadRenewed')
),
bounds AS (
  SELECT min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM timeline
),
days AS (
  -- each day is judged at its last microsecond, the last day at the time of the last event
  SELECT CAST(d AS DATE) AS day, least(timezone('UTC', d + INTERVAL 1 DAY) - INTERVAL 1 MICROSECOND, b.last_at) AS at
  FROM bounds b,
    range(CAST(CAST(b.first_at AS DATE) AS TIMESTAMP), CAST(CAST(b.last_at AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY,
      INTERVAL 1 DAY) AS r(d)
),
alive_spans AS (
  -- an engagement keeps its thread alive until the next engagement or for 7 days, whichever ends first
  SELECT thread_id, region_id, t AS alive_from,
    least(coalesce(lead(t) OVER (PARTITION BY thread_id ORDER BY t), t + INTERVAL 7 DAY), t + INTERVAL 7 DAY) AS alive_until
  FROM engagements
),
alive AS (
  -- the days whose judging time falls in a span (a span covers at most 8 days)
  SELECT s.region_id, d.day, count(*) AS alive
  FROM alive_spans s,
    unnest(range(CAST(CAST(s.alive_from AS DATE) AS TIMESTAMP),
      CAST(CAST(s.alive_until AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY)) AS r(d)
  JOIN days d ON d.day = CAST(r.d AS DATE)
  WHERE d.at >= s.alive_from AND d.at < s.alive_until
  GROUP BY s.region_id, d.day
),
spun AS (
  SELECT region_id, CAST(first_t AS DATE) AS day, count(*) AS threads
  FROM (SELECT thread_id, any_value(region_id) AS region_id, min(t) AS first_t FROM engagements GROUP BY thread_id)
  GROUP BY region_id, day
),
grid AS (
  SELECT d.day, r.region_id FROM days d, (SELECT DISTINCT region_id FROM engagements) r
),
fades AS (
  SELECT day, region_id, count(*) AS fade_events FROM timeline WHERE type = 'ThreadFaded' GROUP BY day, region_id
),
counted AS (
  SELECT g.day, g.region_id, coalesce(a.alive, 0) AS alive,
    sum(coalesce(s.threads, 0)) OVER (PARTITION BY g.region_id ORDER BY g.day) AS threads,
    coalesce(f.fade_events, 0) AS fade_events_recorded
  FROM grid g
  LEFT JOIN alive a USING (day, region_id)
  LEFT JOIN spun s USING (day, region_id)
  LEFT JOIN fades f USING (day, region_id)
)
SELECT day, region_id, alive, threads - alive AS faded, threads, fade_events_recorded
FROM counted
WHERE threads > 0
ORDER BY day, region_id;
