import Foundation

/// The parts of Airflow's stable REST API meow reads: v2 (`/api/v2`, Airflow 3) and v1 (`/api/v1`,
/// Airflow 2). Field names are the API's; every field is optional (versions add and drop fields).
enum AirflowAPI {
    struct Tag: Decodable, Sendable {
        var name: String?
    }

    /// v1's `schedule_interval`: `{"__type": "CronExpression", "value": "0 * * * *"}` or a timedelta.
    struct ScheduleInterval: Decodable, Sendable {
        var __type: String?
        var value: String?
        var days: Int?
        var seconds: Int?
    }

    struct DAG: Decodable, Sendable {
        var dag_id: String?
        var dag_display_name: String?
        var is_paused: Bool?
        var is_stale: Bool?
        var is_active: Bool?
        var fileloc: String?
        var owners: [String]?
        var tags: [Tag]?
        var timetable_summary: String?
        var timetable_description: String?
        var schedule_interval: ScheduleInterval?
        var next_dagrun_logical_date: String?
        var next_dagrun_run_after: String?
        var next_dagrun: String?
        var description: String?
    }

    struct DAGList: Decodable, Sendable {
        var dags: [DAG]?
        var total_entries: Int?
    }

    struct DAGRun: Decodable, Sendable {
        var dag_run_id: String?
        var dag_id: String?
        var logical_date: String?
        var execution_date: String?
        var queued_at: String?
        var start_date: String?
        var end_date: String?
        var duration: Double?
        var state: String?
        var run_type: String?
        var run_after: String?
    }

    struct DAGRunList: Decodable, Sendable {
        var dag_runs: [DAGRun]?
        var total_entries: Int?
    }

    struct TaskInstance: Decodable, Sendable {
        var task_id: String?
        var dag_id: String?
        var dag_run_id: String?
        var map_index: Int?
        var state: String?
        var try_number: Int?
        var duration: Double?
        var pool: String?
        var queued_when: String?
        var start_date: String?
        var end_date: String?
        var `operator`: String?
    }

    struct TaskInstanceList: Decodable, Sendable {
        var task_instances: [TaskInstance]?
        var total_entries: Int?
    }

    struct ImportError: Decodable, Sendable {
        var import_error_id: Int?
        var timestamp: String?
        var filename: String?
        var stack_trace: String?
    }

    struct ImportErrorList: Decodable, Sendable {
        var import_errors: [ImportError]?
        var total_entries: Int?
    }

    /// `POST /auth/token` (v2).
    struct Token: Decodable, Sendable {
        var access_token: String?
    }

    /// The error bodies: v2 `{"detail": "..."}` (or a list of validation errors), v1 problem JSON
    /// `{"title", "detail", "status"}`.
    struct ErrorBody: Decodable, Sendable {
        var detail: Detail?
        var title: String?

        enum Detail: Decodable, Sendable {
            case text(String)
            case other

            init(from decoder: Decoder) throws {
                if let s = try? decoder.singleValueContainer().decode(String.self) {
                    self = .text(s)
                } else {
                    self = .other
                }
            }
        }

        var message: String? {
            if case .text(let s)? = detail { return s }
            return title
        }
    }
}
