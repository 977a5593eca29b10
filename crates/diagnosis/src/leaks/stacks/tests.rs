use super::*;

fn at(file: &str, line: u32) -> SourceLocation {
    SourceLocation {
        file: file.into(),
        line,
        column: 1,
        function: None,
    }
}

#[test]
fn the_users_frame_is_the_first_outside_libraries_and_the_runtime() {
    let frames = [
        at("node:internal/timers", 1),
        at("node_modules/lru/index.js", 8),
        at("node_modules/lru/store.js", 3),
        at("src/app.js", 12),
        at("src/server.js", 40),
        at("node:events", 519),
    ];
    let (user, library) = user_and_library(&frames);
    assert_eq!(user, Some(&frames[3]));
    assert_eq!(library, Some(&frames[1]), "the innermost library frame");
    // Made in the app: no library.
    let (user, library) = user_and_library(&frames[3..]);
    assert_eq!(user, Some(&frames[3]));
    assert_eq!(library, None);
    // A library frame outside the user's (the app called from a framework) is not it.
    let outer = [
        at("src/app.js", 2),
        at("/srv/node_modules/express/router.js", 5),
    ];
    assert_eq!(user_and_library(&outer), (Some(&outer[0]), None));
    assert!(in_library("/srv/node_modules/express/router.js"));
    assert!(!in_library("src/my_node_modules_notes.js"));
}

#[test]
fn a_stack_that_never_makes_the_class_is_not_its_maker() {
    use crate::source_map::SourceMaps;
    use leakhunt_engine::{AnalysisOptions, GraphBuilder, NodeType};

    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("app.js");
    std::fs::write(
        &script,
        "function requestId(req) {\n  return req.get('x-request-id');\n}\n\
         function track(req) {\n  const h = new Histogram({ name: req.path });\n  return h;\n}\n",
    )
    .unwrap();
    let script = script.display().to_string();
    let mut b = GraphBuilder::new();
    let n = b.node(NodeType::Object, "Histogram", 10);
    b.edge(b.root(), EdgeType::Shortcut, "h", n);
    let a = Analysis::new(b.build(), &AnalysisOptions::default());
    let locator = Locator::new(&a, SourceMaps::default(), None);
    let reader = StackReader::new(&locator);
    let frame = |function: &str, line: u32| Frame {
        function: function.into(),
        script: script.clone(),
        at: LineColumn { line, column: 1 },
    };
    let histogram = Needle::New("Histogram".into());
    // Its statement says `new Histogram(`: the maker.
    assert!(reader.makes(&[frame("track", 4)], &histogram));
    // Its constructor among the innermost frames (a base class allocating): the maker.
    assert!(reader.makes(
        &[frame("Metric", 1), frame("Histogram", 1), frame("track", 4)],
        &histogram
    ));
    // A trace left at the address by another object: code that makes no Histogram.
    assert!(!reader.makes(&[frame("requestId", 1)], &histogram));
    // Literals and closures have no constructor to check.
    assert!(reader.makes(&[frame("requestId", 1)], &Needle::ObjectLiteral));
}
