-- What automation did and when, from the audit log: fade-job runs (threads faded, nodes hidden) and publish, promote and rollback history.
SELECT
  "at",
  action,
  actor,
  subject,
  CASE
    WHEN action LIKE '%.failed' THEN 'failed'
    WHEN action LIKE '%.refused' THEN 'refused'
    ELSE 'done'
  END AS outcome,
  json_extract_string(details, '$.region') AS region,
  json_extract_string(details, '$.release') AS release,
  CAST(json_extract(details, '$.fadedThreads') AS INTEGER) AS faded_threads,
  CAST(json_extract(details, '$.hiddenNodes') AS INTEGER) AS hidden_nodes,
  coalesce(json_extract_string(details, '$.error'), json_extract_string(details, '$.reason')) AS problem
FROM audit_log
WHERE action LIKE 'fade%'
  OR action LIKE 'release.%'
  OR action LIKE 'jobs.%'
  OR action LIKE 'snapshot%'
  OR action LIKE 'housekeeping%'
ORDER BY "at", id;
