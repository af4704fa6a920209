/// The interval of the schedule expressions the generator uses; anything else counts as daily.
/// Runs are aligned to the Unix epoch, like cron in UTC: @daily at 00:00, "0 */6 * * *" at 0, 6, 12, 18h.
enum DAGSchedule {
    static func interval(_ schedule: String?) -> Double {
        switch schedule {
        case "@hourly", "0 * * * *": return 3600
        case "*/15 * * * *": return 900
        case "0 */6 * * *": return 21600
        case "@weekly": return 7 * 86400
        default: return 86400
        }
    }
}
