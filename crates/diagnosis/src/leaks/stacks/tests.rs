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
