"""Drives `promptcheck view` in headless Chromium through Selenium.

usage: view_check.py URL SCREENSHOT_DIR PENDING_CASE LABEL_CASE FAILED_COUNT

Opens the grid, filters it, accepts a pending golden, labels a case, and saves screenshots
of the grid, a diff and a label. Prints one line per step; exits non-zero on the first
step that does not hold.
"""
import os
import sys

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

url, shots, pending_case, label_case, failed_count = sys.argv[1:6]

options = webdriver.ChromeOptions()
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]:
    options.add_argument(arg)
binary = next((b for b in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] if os.path.exists(b)), None)
if binary:
    options.binary_location = binary
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)


def cells():
    return driver.find_elements(By.CSS_SELECTOR, "td.cell")


def rows_settle(expected):
    wait.until(lambda d: len(cells()) == expected)


def click_cell(case_id):
    """Clicks the grid cell of a case once it shows (the grid is redrawn as filters and live updates come)."""
    selector = f'td.cell[data-id="{case_id}"]'

    def clicked(d):
        try:
            found = d.find_elements(By.CSS_SELECTOR, selector)
            if not found:
                return False
            found[0].click()
            return True
        except StaleElementReferenceException:
            return False

    wait.until(clicked)


try:
    driver.get(url)
    wait.until(lambda d: len(cells()) > 0)
    print(f"grid: {len(cells())} cells")
    driver.save_screenshot(os.path.join(shots, "grid.png"))

    Select(driver.find_element(By.ID, "status-filter")).select_by_value("failed")
    rows_settle(int(failed_count))
    print(f"failed filter: {len(cells())} cells")

    Select(driver.find_element(By.ID, "status-filter")).select_by_value("")
    search = driver.find_element(By.ID, "search")
    search.send_keys(pending_case.split("/")[-1])
    click_cell(pending_case)
    accept = wait.until(EC.element_to_be_clickable((By.ID, "accept")))
    driver.save_screenshot(os.path.join(shots, "diff.png"))
    accept.click()
    wait.until(lambda d: "accepted" in d.find_element(By.ID, "flash").text)
    print("accept: " + driver.find_element(By.ID, "flash").text)

    search.clear()
    search.send_keys(label_case.split("/")[-1])
    click_cell(label_case)
    wait.until(lambda d: label_case in d.find_element(By.ID, "detail").text)
    wait.until(EC.element_to_be_clickable((By.ID, "label-fail")))
    note = driver.find_element(By.CSS_SELECTOR, "#detail .note")
    note.send_keys("too curt")
    driver.find_element(By.ID, "label-fail").click()
    wait.until(lambda d: "labelled" in d.find_element(By.ID, "flash").text)
    print("label: " + driver.find_element(By.ID, "flash").text)
    wait.until(lambda d: "labelled case fail" in d.find_element(By.ID, "detail").text)
    driver.save_screenshot(os.path.join(shots, "label.png"))
    print("ok")
finally:
    driver.quit()
