-- Which nodes draw the most engagement: engagements, distinct roles, live threads, proposals and the votes on them.
WITH by_threads AS (
  SELECT
    node_id,
    sum(engagements) AS engagements,
    count(DISTINCT role_id) AS roles,
    count(*) FILTER (WHERE NOT faded) AS live_threads
  FROM threads
  GROUP BY node_id
),
by_votes AS (
  SELECT p.node_id, count(*) AS votes
  FROM votes v
  JOIN proposals p USING (proposal_id)
  GROUP BY p.node_id
)
SELECT
  n.node_id,
  n.region_id,
  n.title,
  n.kind,
  n.hidden,
  coalesce(t.engagements, 0) AS engagements,
  coalesce(t.roles, 0) AS roles,
  coalesce(t.live_threads, 0) AS live_threads,
  n.proposal_count AS proposals,
  coalesce(v.votes, 0) AS votes,
  n.last_activity_at,
  n.lon,
  n.lat
FROM nodes n
LEFT JOIN by_threads t USING (node_id)
LEFT JOIN by_votes v USING (node_id)
ORDER BY engagements DESC, roles DESC, n.node_id
LIMIT 25;
