-- How many roles took part in each proposal and how it turned out: voters, turnout among the region's roles, tally, changed votes, outcome.
WITH eligible AS (
  -- the roles of the proposal's region that had joined by its close (or its closing time, while open)
  SELECT p.proposal_id, count(r.role_id) AS roles
  FROM proposals p
  JOIN roles r ON r.region_id = p.region_id AND r.created_at <= coalesce(p.closed_at, p.closes_at)
  GROUP BY p.proposal_id
),
cast_votes AS (
  SELECT proposal_id, count(*) AS voters, sum(changes) AS changed_votes FROM votes GROUP BY proposal_id
)
SELECT
  p.proposal_id,
  p.region_id,
  p.title,
  n.title AS node,
  p.opened_at,
  p.closes_at,
  coalesce(c.voters, 0) AS voters,
  coalesce(e.roles, 0) AS eligible_roles,
  round(coalesce(c.voters, 0) / nullif(e.roles, 0), 3) AS turnout,
  p.votes_yes AS yes,
  p.votes_no AS no,
  p.votes_abstain AS abstain,
  coalesce(c.changed_votes, 0) AS changed_votes,
  CASE
    WHEN NOT p.closed THEN 'open'
    WHEN p.votes_yes > p.votes_no THEN 'accepted'
    WHEN p.votes_yes < p.votes_no THEN 'rejected'
    ELSE 'tied'
  END AS outcome
FROM proposals p
LEFT JOIN eligible e USING (proposal_id)
LEFT JOIN cast_votes c USING (proposal_id)
LEFT JOIN nodes n USING (node_id)
ORDER BY p.opened_at, p.proposal_id;
