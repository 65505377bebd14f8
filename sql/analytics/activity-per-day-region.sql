-- How active was each region on each (UTC) day: events, active roles, engagements, new threads, nodes and roles, votes, fades.
SELECT
  t.day,
  t.region_id,
  count(*) AS events,
  count(DISTINCT t.actor) FILTER (WHERE r.role_id IS NOT NULL) AS active_roles,
  count(*) FILTER (WHERE t.type IN ('ThreadSpun', 'ThreadRenewed')) AS engagements,
  count(*) FILTER (WHERE t.type = 'ThreadSpun') AS new_threads,
  count(*) FILTER (WHERE t.type = 'NodeCreated') AS new_nodes,
  count(*) FILTER (WHERE t.type = 'RoleRegistered') AS new_roles,
  count(*) FILTER (WHERE t.type = 'ProposalOpened') AS new_proposals,
  count(*) FILTER (WHERE t.type = 'VoteCast') AS votes,
  count(*) FILTER (WHERE t.type = 'ThreadFaded') AS faded_threads
FROM timeline t
LEFT JOIN roles r ON r.role_id = t.actor
GROUP BY t.day, t.region_id
ORDER BY t.day, t.region_id;
