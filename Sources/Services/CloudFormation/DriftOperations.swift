import Core
import Foundation
import Synchronization

/// The drift detections this process runs: one stored IN_PROGRESS but not here was interrupted by a restart.
enum RunningDetections {
    static let ids = Mutex<Set<String>>([])
}

/// DetectStackDrift (in the background), DescribeStackDriftDetectionStatus, DetectStackResourceDrift and
/// DescribeStackResourceDrifts, over each provider's `currentProperties`.
extension CloudFormationService {
    static func reason(_ error: any Error) -> String { (error as? AWSError)?.message ?? String(describing: error) }

    static let driftStatuses: Set<String> = ["IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED", "UNKNOWN", "UNSUPPORTED"]

    func liveStack(_ p: [String: String], _ caller: Caller) throws -> Stack {
        let name = try Self.required(p, "StackName")
        let s = try stack(name, caller)
        guard s.deleted == nil else { throw CFNError.stackNotFound(name) }
        return s
    }

    func detectStackDrift(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try liveStack(p, caller)
        let wanted = Self.list(p, "LogicalResourceIds")
        for name in wanted where s.resources[name] == nil {
            throw CFNError.validation("Resource \(name) does not exist for stack \(s.name)")
        }
        let detection = DriftDetection(id: UUID().uuidString.lowercased(), stackId: s.id, status: "DETECTION_IN_PROGRESS",
                                       statusReason: "User Initiated", timestamp: caller.now)
        try store.save(detection)
        let store = self.store
        RunningDetections.ids.withLock { _ = $0.insert(detection.id) }
        Task { [self] in
            // Saved before it leaves the running set: whoever finds it gone from there reads its result.
            defer { RunningDetections.ids.withLock { _ = $0.remove(detection.id) } }
            var d = detection
            var drifted = 0
            var failed: [String] = []
            let names = wanted.isEmpty ? s.resources.keys.sorted() : wanted
            for name in names {
                guard let r = s.resources[name], r.state != nil else { continue }
                let drift = await resourceDrift(s, r, now: clock.now())
                if drift.status != "NOT_CHECKED" { try? store.save(drift) }
                if drift.status == "MODIFIED" || drift.status == "DELETED" { drifted += 1 }
                if drift.status == "UNKNOWN" { failed.append(name) }
            }
            // A resource that could not be read fails the detection; the others' results stand.
            d.status = failed.isEmpty ? "DETECTION_COMPLETE" : "DETECTION_FAILED"
            d.statusReason = failed.isEmpty ? nil : "Failed to detect drift on resource(s) [\(failed.joined(separator: ", "))]"
            d.stackDriftStatus = drifted > 0 ? "DRIFTED" : failed.isEmpty ? "IN_SYNC" : "UNKNOWN"
            d.driftedCount = drifted
            d.timestamp = clock.now()
            try? store.save(d)
        }
        return { $0.element("StackDriftDetectionId", detection.id) }
    }

    func describeStackDriftDetectionStatus(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let id = try Self.required(p, "StackDriftDetectionId")
        let running = RunningDetections.ids.withLock { $0.contains(id) }
        guard var d = try store.detection(id: id), let s = try store.stack(id: d.stackId), s.account == caller.account,
              s.region == caller.region else {
            throw CFNError.validation("Drift detection with id \(id) does not exist")
        }
        if d.status == "DETECTION_IN_PROGRESS", !running {
            d.status = "DETECTION_FAILED"
            d.statusReason = "The drift detection was interrupted by a restart of the emulator."
            d.stackDriftStatus = "UNKNOWN"
            try store.save(d)
        }
        return { xml in
            xml.element("StackId", d.stackId)
            xml.element("StackDriftDetectionId", d.id)
            xml.element("StackDriftStatus", d.stackDriftStatus)
            xml.element("DetectionStatus", d.status)
            xml.element("DetectionStatusReason", d.statusReason)
            if let n = d.driftedCount { xml.element("DriftedStackResourceCount", n) }
            xml.element("Timestamp", Self.date(d.timestamp))
        }
    }

    func detectStackResourceDrift(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let s = try liveStack(p, caller)
        let logical = try Self.required(p, "LogicalResourceId")
        guard let r = s.resources[logical], r.state != nil else {
            throw CFNError.validation("Resource \(logical) does not exist for stack \(s.name)")
        }
        let drift = await resourceDrift(s, r, now: clock.now())
        if drift.status != "NOT_CHECKED" { try store.save(drift) }
        return { xml in
            xml.open("StackResourceDrift")
            Self.writeDrift(drift, to: &xml)
            xml.close()
        }
    }

    func describeStackResourceDrifts(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try liveStack(p, caller)
        let filters = Self.list(p, "StackResourceDriftStatusFilters")
        for f in filters where !Self.driftStatuses.contains(f) {
            throw CFNError.validation("1 validation error detected: Value '[\(filters.joined(separator: ", "))]' at 'stackResourceDriftStatusFilters' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IN_SYNC, MODIFIED, DELETED, NOT_CHECKED, UNKNOWN, UNSUPPORTED]]")
        }
        if filters.count > 4 {
            throw CFNError.validation("1 validation error detected: Value '[\(filters.joined(separator: ", "))]' at 'stackResourceDriftStatusFilters' failed to satisfy constraint: Member must have length less than or equal to 4")
        }
        var max = 100
        if let m = p["MaxResults"] {
            guard let n = Int(m), (1...100).contains(n) else {
                throw CFNError.validation("1 validation error detected: Value '\(m)' at 'maxResults' failed to satisfy constraint: Member must have value \(Int(m).map { $0 < 1 ? "greater than or equal to 1" : "less than or equal to 100" } ?? "less than or equal to 100")")
            }
            max = n
        }
        var start = 0
        if let token = p["NextToken"], !token.isEmpty {
            guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix(s.id + "#"), let n = Int(text.dropFirst(s.id.count + 1)), n >= 0 else {
                throw CFNError.validation("Invalid NextToken")
            }
            start = n
        }
        let all = try store.resourceDrifts(stackId: s.id).values
            .filter { s.resources[$0.logicalId] != nil && (filters.isEmpty || filters.contains($0.status)) }
            .sorted { $0.logicalId < $1.logicalId }
        let page = Array(all.dropFirst(start).prefix(max))
        let next = start + page.count < all.count ? Data("\(s.id)#\(start + page.count)".utf8).base64EncodedString() : nil
        return { xml in
            xml.open("StackResourceDrifts")
            for d in page {
                xml.open("member")
                Self.writeDrift(d, to: &xml)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    /// Compare one resource with what its service holds now.
    func resourceDrift(_ s: Stack, _ r: StackResource, now: Double) async -> ResourceDrift {
        var drift = ResourceDrift(stackId: s.id, logicalId: r.logicalId, physicalId: r.physicalId, type: r.type, differences: [],
                                  status: "NOT_CHECKED", timestamp: now)
        guard let state = r.state, let provider = await engine.provider(for: r.type),
              !((try? store.options(stackId: s.id))?.skippedInRollback.contains(r.logicalId) ?? false) else { return drift }
        let expected = Self.expectedProperties(r.properties, stackTags: s.tags)
        let reading: ResourceReading
        do {
            reading = try await provider.currentProperties(await engine.request(s, r.logicalId, r.type, r.properties), state: state)
        } catch {
            drift.status = "UNKNOWN"
            drift.reason = Self.reason(error)
            return drift
        }
        switch reading {
        case .notChecked:
            return drift
        case .deleted:
            drift.status = "DELETED"
            drift.expected = Drift.json(.object(expected))
        case .properties(let actual):
            let differences = Drift.differences(expected: expected, actual: actual)
            drift.status = differences.isEmpty ? "IN_SYNC" : "MODIFIED"
            drift.differences = differences
            drift.expected = Drift.json(.object(expected))
            drift.actual = Drift.json(.object(Drift.actualShown(expected: expected, actual: actual)))
        }
        return drift
    }

    /// The template's properties plus the stack's tags where the template gives a list of tags: CloudFormation puts
    /// the stack's tags on its resources too, so finding them there is no drift.
    static func expectedProperties(_ properties: [String: JSON], stackTags: [StackParameter]) -> [String: JSON] {
        var out = properties
        if var tags = properties["Tags"]?.array, Drift.isTagList(tags) || tags.isEmpty {
            let given = Set(tags.compactMap { $0["Key"].flatMap(Template.text) })
            for t in stackTags where !given.contains(t.key) {
                tags.append(.object(["Key": .string(t.key), "Value": .string(t.value)]))
            }
            out["Tags"] = .array(tags)
        }
        return out
    }

    static func writeDrift(_ d: ResourceDrift, to xml: inout XMLWriter) {
        xml.element("StackId", d.stackId)
        xml.element("LogicalResourceId", d.logicalId)
        xml.element("PhysicalResourceId", d.physicalId)
        xml.element("ResourceType", d.type)
        xml.element("ExpectedProperties", d.expected)
        xml.element("ActualProperties", d.actual)
        xml.open("PropertyDifferences")
        for diff in d.differences {
            xml.open("member")
            xml.element("PropertyPath", diff.path)
            xml.element("ExpectedValue", diff.expected)
            xml.element("ActualValue", diff.actual)
            xml.element("DifferenceType", diff.type)
            xml.close()
        }
        xml.close()
        xml.element("StackResourceDriftStatus", d.status)
        xml.element("Timestamp", date(d.timestamp))
        xml.element("DriftStatusReason", d.reason)
    }

    /// A resource's `DriftInformation` (DescribeStackResource(s), ListStackResources).
    static func writeResourceDriftInformation(_ d: ResourceDrift?, to xml: inout XMLWriter) {
        xml.open("DriftInformation")
        xml.element("StackResourceDriftStatus", d?.status ?? "NOT_CHECKED")
        if let d { xml.element("LastCheckTimestamp", date(d.timestamp)) }
        xml.close()
    }

    /// A stack's `DriftInformation` (DescribeStacks, ListStacks): its latest finished detection.
    static func writeStackDriftInformation(_ d: DriftDetection?, to xml: inout XMLWriter) {
        xml.open("DriftInformation")
        if let d {
            xml.element("StackDriftStatus", d.stackDriftStatus ?? "UNKNOWN")
            xml.element("LastCheckTimestamp", date(d.timestamp))
        } else {
            xml.element("StackDriftStatus", "NOT_CHECKED")
        }
        xml.close()
    }
}
