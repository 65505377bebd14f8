-- How many threads were alive and how many had faded at the end of each UTC day, per region (fade rule: 7 days without engagement), next to the fade events recorded that day.
WITH engagements AS (
  SELECT stream_id AS thread_id, region_id, occurred_at
  FROM timeline
  WHERE type IN ('ThreadSpun', 'ThreadRenewed')
),
bounds AS (
  SELECT min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM timeline
),
days AS (
  -- each day is judged at its end, the last one at the time of the last event
  SELECT CAST(d AS DATE) AS day, least(timezone('UTC', d + INTERVAL 1 DAY), b.last_at) AS at
  FROM bounds b,
    range(CAST(CAST(b.first_at AS DATE) AS TIMESTAMP), CAST(CAST(b.last_at AS DATE) AS TIMESTAMP) + INTERVAL 1 DAY,
      INTERVAL 1 DAY) AS r(d)
),
threads_then AS (
  SELECT d.day, d.at, e.thread_id, any_value(e.region_id) AS region_id, max(e.occurred_at) AS last_engaged
  FROM days d
  JOIN engagements e ON e.occurred_at <= d.at
  GROUP BY d.day, d.at, e.thread_id
),
fades AS (
  SELECT day, region_id, count(*) AS fade_events FROM timeline WHERE type = 'ThreadFaded' GROUP BY day, region_id
)
SELECT
  s.day,
  s.region_id,
  count(*) FILTER (WHERE s.at - s.last_engaged < INTERVAL 7 DAY) AS alive,
  count(*) FILTER (WHERE s.at - s.last_engaged >= INTERVAL 7 DAY) AS faded,
  count(*) AS threads,
  coalesce(any_value(f.fade_events), 0) AS fade_events_recorded
FROM threads_then s
LEFT JOIN fades f ON f.day = s.day AND f.region_id = s.region_id
GROUP BY s.day, s.region_id
ORDER BY s.day, s.region_id;
