{{ config(schema='int_qualtrics') }}
-- Answers per survey and question: responses, finished responses, respondents (app users) and the
-- first / last day answers were recorded, with the survey's name from its latest daily snapshot.
{%- set answer_cols = [('recorded_date', 'date'), ('survey_id', 'string'), ('response_id', 'string'),
    ('question', 'string'), ('question_id', 'string'), ('question_text', 'string'), ('answer', 'string'),
    ('user_id', 'string'), ('distribution_channel', 'string'), ('is_finished', dbt.type_boolean()),
    ('started_at', 'timestamp'), ('ended_at', 'timestamp'), ('recorded_at', 'timestamp')] %}
{%- set survey_cols = [('snapshot_date', 'date'), ('survey_id', 'string'), ('survey_name', 'string'),
    ('owner_id', 'string'), ('is_active', dbt.type_boolean()), ('created_at', 'timestamp'),
    ('last_modified_at', 'timestamp')] %}

with
    surveys as (
        select
            survey_id,
            survey_name,
            is_active,
            row_number() over (partition by survey_id order by snapshot_date desc) as snapshot_rank
        from {{ source_or_empty('raw_qualtrics', 'qualtrics_survey', survey_cols) }}
    ),

    answers as (
        select * from {{ source_or_empty('raw_qualtrics', 'qualtrics_answers', answer_cols) }}
    )

select
    a.survey_id,
    s.survey_name,
    s.is_active as survey_is_active,
    a.question,
    max(a.question_id) as question_id,
    max(a.question_text) as question_text,
    count(distinct a.response_id) as response_count,
    count(distinct case when a.is_finished then a.response_id end) as finished_response_count,
    count(distinct a.user_id) as respondent_user_count,
    min(a.recorded_date) as first_recorded_date,
    max(a.recorded_date) as last_recorded_date
from answers as a
left join surveys as s on s.survey_id = a.survey_id and s.snapshot_rank = 1
group by a.survey_id, s.survey_name, s.is_active, a.question
