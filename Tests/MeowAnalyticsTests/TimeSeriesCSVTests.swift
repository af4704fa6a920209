import Foundation
import Testing

@testable import MeowAnalytics

@Suite("timestamp,value CSV parsing")
struct TimeSeriesCSVTests {
    @Test("parses NAB files, ISO 8601 and epoch timestamps")
    func parsesFormats() throws {
        let s = try TimeSeriesCSV.parse(
            "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01T00:05:00Z,2.5\n2014-04-01 00:10:00.500000,-3e2\n")
        #expect(s.values == [1, 2.5, -300])
        #expect(s.times[1] - s.times[0] == 300)
        #expect(s.times[2] - s.times[0] == 600.5)
        #expect(TimeSeriesCSV.parseTimestamp("1970-01-02 00:00:00") == 86_400)
        #expect(TimeSeriesCSV.parseTimestamp("2014-04-01T02:00:00+02:00") == TimeSeriesCSV.parseTimestamp("2014-04-01 00:00:00"))
        #expect(TimeSeriesCSV.parseTimestamp("1700000000") == 1_700_000_000)
        #expect(TimeSeriesCSV.parseTimestamp("yesterday") == nil)
    }

    @Test("accepts CRLF and old-Mac CR line endings, a BOM, columns in any order")
    func lineEndings() throws {
        let a = try TimeSeriesCSV.parse("timestamp,value\r\n2014-01-01 00:00:00,1\r\n2014-01-01 00:01:00,2\r\n")
        let b = try TimeSeriesCSV.parse("timestamp,value\r2014-01-01 00:00:00,1\r2014-01-01 00:01:00,2")
        let c = try TimeSeriesCSV.parse("\u{FEFF}value,timestamp,host\n1,2014-01-01 00:00:00,a\n2,2014-01-01 00:01:00,b\n")
        #expect(a.values == [1, 2] && b.values == [1, 2] && c.values == [1, 2])
        #expect(a.times == b.times && b.times == c.times)
    }

    @Test("missing column is reported on line 1")
    func missingColumn() {
        #expect(
            throws: TimeSeriesCSVError(
                file: "x.csv", line: 1,
                message: "missing column 'value' in header (expected 'timestamp,value', got 'timestamp,val')")
        ) {
            try TimeSeriesCSV.parse("timestamp,val\n2014-01-01 00:00:00,1\n", file: "x.csv")
        }
    }

    @Test("unparsable value and timestamp name their line")
    func badRows() {
        do {
            _ = try TimeSeriesCSV.parse("timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:01:00,abc\n", file: "f.csv")
            Issue.record("expected an error")
        } catch let e as TimeSeriesCSVError {
            #expect(e.line == 3)
            #expect(e.description == "f.csv:3: unparsable value 'abc'")
        } catch { Issue.record("wrong error \(error)") }
        do {
            _ = try TimeSeriesCSV.parse("timestamp,value\n\n2014-13-01 00:00:00,1\n", file: "f.csv")
            Issue.record("expected an error")
        } catch let e as TimeSeriesCSVError {
            #expect(e.line == 3)
            #expect(e.message.contains("unparsable timestamp"))
        } catch { Issue.record("wrong error \(error)") }
        #expect(throws: TimeSeriesCSVError.self) { try TimeSeriesCSV.parse("timestamp,value\n2014-01-01 00:00:00\n") }
    }

    @Test("unsorted timestamps are an error naming the line; duplicates are allowed")
    func unsorted() throws {
        let text = "timestamp,value\n2014-01-01 00:02:00,1\n2014-01-01 00:02:00,2\n2014-01-01 00:01:00,3\n"
        do {
            _ = try TimeSeriesCSV.parse(text, file: "u.csv")
            Issue.record("expected an error")
        } catch let e as TimeSeriesCSVError {
            #expect(e.line == 4)
            #expect(e.message.contains("earlier than the previous row"))
        }
        let lenient = try TimeSeriesCSV.parse(text, file: "u.csv", order: .clampBackwardSteps)
        #expect(lenient.clampedLines == [4])
        #expect(lenient.times[2] == lenient.times[1])
        #expect(lenient.timestampText[2] == "2014-01-01 00:01:00")
    }

    @Test("empty input is an error")
    func empty() {
        #expect(throws: TimeSeriesCSVError.self) { try TimeSeriesCSV.parse("") }
    }
}
