//! Keeping a run's drawn graph and steps table current in the browser: a
//! step's new state on its box and its row, the selected box, the graph's
//! zoom, and at the run's end its parts drawn again by the server. They
//! are drawn once (see `drawn_part`), by the server on a page load; a run
//! of 500 tasks would otherwise need 500 reactive boxes and rows and their
//! data twice in the page. On the server these do nothing.

#[cfg(feature = "hydrate")]
#[cfg(feature = "hydrate")]
use super::run_state::{badge_class, duration, node_title, symbol};
use crate::runs::data::StepView;

/// A selector for the element under `scope` whose `data-task` is `task`,
/// the name quoted so that no name can change the selector's meaning.
pub fn task_selector(scope: &str, task: &str) -> String {
    let mut quoted = String::with_capacity(task.len() + 2);
    for c in task.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            // CSS escapes a code point by its hex value and a space.
            c if c.is_control() => quoted.push_str(&format!("\\{:x} ", c as u32)),
            c => quoted.push(c),
        }
    }
    format!("{scope}[data-task=\"{quoted}\"]")
}

/// The graph's `<svg>` at a new size (a zoom step).
pub fn zoom(width: &str, height: &str, class: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(svg) = find("#dag") {
        let _ = svg.set_attribute("width", width);
        let _ = svg.set_attribute("height", height);
        let _ = svg.set_attribute("class", class);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (width, height, class);
}

/// Outlines the box of `task` (the step whose log is open), and only it.
pub fn select(task: Option<&str>) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(old) = find("#dag g[data-selected]") {
            let _ = old.remove_attribute("data-selected");
        }
        if let Some(node) = task.and_then(|task| find(&task_selector("#dag g", task))) {
            let _ = node.set_attribute("data-selected", "true");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = task;
}

/// A step's change from the run's events, on its box and its row (a row
/// not on the page, past the table's first page, is left alone).
pub fn step(step: &StepView) {
    #[cfg(feature = "hydrate")]
    {
        let state = step.state;
        if let Some(node) = find(&task_selector("#dag g", &step.task)) {
            let _ = node.set_attribute("data-state", state.as_str());
            if let Ok(Some(title)) = node.query_selector("title") {
                title.set_text_content(Some(&node_title(&step.task, state)));
            }
            if let Ok(Some(symbol_text)) = node.query_selector("text[aria-hidden]") {
                symbol_text.set_text_content(Some(symbol(state)));
            }
        }
        let Some(row) = find(&task_selector("#steps tr", &step.task)) else {
            return;
        };
        if let Ok(Some(badge)) = row.query_selector(":scope > td:nth-child(2) > span") {
            let _ = badge.set_attribute("class", badge_class(state.into()));
            let _ = badge.set_attribute("data-state", state.as_str());
            badge.set_text_content(Some(state.as_str()));
        }
        let cell = |n: usize, text: &str| {
            if let Ok(Some(td)) = row.query_selector(&format!(":scope > td:nth-child({n})")) {
                td.set_text_content(Some(text));
            }
        };
        cell(3, &step.attempt.to_string());
        cell(5, &duration(step.duration_ms));
        cell(
            6,
            &step.exit_code.map(|c| c.to_string()).unwrap_or_default(),
        );
        // The message cell also links a finished step's artifacts: those
        // come with the parts read again at the run's end.
        if row
            .query_selector(":scope > td:nth-child(7) a")
            .ok()
            .flatten()
            .is_none()
        {
            cell(7, &step.message);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = step;
}

/// Reads the page again from the server and puts its elements of the
/// given ids in place of the page's own (the rest stays as it is: the open
/// log, the graph's zoom); loads the whole page if that fails.
pub fn refresh_parts(ids: &'static [&'static str]) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        if swap_parts(ids).await.is_none()
            && let Some(window) = web_sys::window()
        {
            let _ = window.location().reload();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = ids;
}

#[cfg(feature = "hydrate")]
async fn swap_parts(ids: &[&str]) -> Option<()> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{DomParser, Response, SupportedType};

    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let response: Response = JsFuture::from(window.fetch_with_str(&href))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    let fresh = DomParser::new()
        .ok()?
        .parse_from_string(&text, SupportedType::TextHtml)
        .ok()?;
    let page = window.document()?;
    for id in ids {
        let (new, old) = (fresh.get_element_by_id(id)?, page.get_element_by_id(id)?);
        old.replace_with_with_node_1(&new).ok()?;
    }
    Some(())
}

#[cfg(feature = "hydrate")]
fn find(selector: &str) -> Option<web_sys::Element> {
    web_sys::window()?
        .document()?
        .query_selector(selector)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_in_selectors() {
        assert_eq!(
            task_selector("#steps tr", "build"),
            r#"#steps tr[data-task="build"]"#
        );
        assert_eq!(
            task_selector("#dag g", r#"a"] , body[x="\"#),
            r#"#dag g[data-task="a\"] , body[x=\"\\"]"#
        );
        assert_eq!(task_selector("g", "a\nb"), "g[data-task=\"a\\a b\"]");
    }
}
